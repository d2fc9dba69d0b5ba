"""pyproc.run_many: one task per recording, on a real Dask cluster of two worker processes
and on the local process pool; outputs byte-identical to runs one by one."""

import distributed
import pytest

import pyproc
import pyproc.testing as pt
from conftest import EXAMPLES, tree_hashes

SCRIPT = EXAMPLES / "spike_detector.py"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    base = tmp_path_factory.mktemp("recordings")
    return [pt.synthetic_recording(base / f"session{i}", channels=4, seconds=0.5, seed=i) for i in range(1, 5)]


@pytest.fixture(scope="module")
def one_by_one(recordings, tmp_path_factory):
    """Each recording run alone with pyproc.run, as the reference."""
    root = tmp_path_factory.mktemp("one_by_one")
    names = pyproc._many.output_names(recordings)
    for recording, name in zip(recordings, names):
        assert pyproc.run(SCRIPT, recording, root / name, progress=False).ok
    return {name: tree_hashes(root / name) for name in names}


def check_same_as_one_by_one(results, root, one_by_one):
    assert [r.ok for r in results] == [True] * len(results), [r.error for r in results]
    for result in results:
        name = result.output.rsplit("/", 1)[1]
        assert tree_hashes(root / name) == one_by_one[name], name
        assert result.report.blocks == 15


def test_on_a_dask_cluster_of_two_worker_processes_outputs_equal_runs_one_by_one(recordings, one_by_one, tmp_path):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        results = pyproc.run_many(SCRIPT, recordings, tmp_path, client=client, progress=False)
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    check_same_as_one_by_one(results, tmp_path, one_by_one)


def test_on_the_local_process_pool_outputs_equal_runs_one_by_one(recordings, one_by_one, tmp_path):
    results = pyproc.run_many(SCRIPT, recordings, tmp_path, max_workers=2)
    check_same_as_one_by_one(results, tmp_path, one_by_one)


def test_one_recording_failing_is_reported_and_the_others_are_kept(recordings, tmp_path):
    missing = recordings[0].parent.parent.parent / "session-missing/experiment1/recording1"
    results = pyproc.run_many(SCRIPT, [recordings[0], missing, recordings[1]], tmp_path / "out", max_workers=2, progress=False)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error.startswith("PyprocError: ") and "session-missing" in results[1].error
    assert results[1].report is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([results[0].output.rsplit("/", 1)[1], results[2].output.rsplit("/", 1)[1]])


def test_output_names_are_the_folder_names_or_the_paths_below_the_common_folder(tmp_path):
    assert pyproc._many.output_names([tmp_path / "a", tmp_path / "b"]) == ["a", "b"]
    assert pyproc._many.output_names([tmp_path / "s1/experiment1/recording1", tmp_path / "s2/experiment1/recording1"]) == [
        "s1_experiment1_recording1",
        "s2_experiment1_recording1",
    ]
