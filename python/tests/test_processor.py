"""pyproc.Processor: blocks in place, errors as Python exceptions, the script's callbacks,
and two processors on two threads at once."""

import threading
from pathlib import Path

import numpy as np
import pytest

import pyproc

DOUBLER = """
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
    def process(self, data):
        data *= 2
"""

RAISES_IN_PROCESS = """
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        data[:] = 0
        self.fail(data)
    def fail(self, data):
        raise ValueError("threshold must be positive")
"""


def block(channels=4, samples=256, value=1.0):
    return np.full((channels, samples), value, dtype=np.float32)


def test_process_changes_the_block_in_place():
    p = pyproc.Processor.from_source(DOUBLER, num_channels=4)
    p.start_acquisition()
    data = block(value=1.5)
    out = p.process(data, first_sample=0)
    assert out.passed_through is None and out.events == [] and out.spikes == []
    assert np.all(data == 3.0)


def test_a_script_exception_is_a_script_error_with_type_message_callback_and_frames(write_script):
    path = write_script(RAISES_IN_PROCESS, "raises.py")
    p = pyproc.Processor(path, num_channels=4)
    p.start_acquisition()
    data = block(value=7.0)
    with pytest.raises(pyproc.ScriptError) as raised:
        p.process(data)
    error = raised.value
    assert (error.type_name, error.message, error.callback) == ("ValueError", "threshold must be positive", "process")
    assert error.line == 9
    assert [(Path(f).name, line, fn) for f, line, fn in error.frames] == [("raises.py", 7, "process"), ("raises.py", 9, "fail")]
    assert "Traceback (most recent call last)" in error.traceback
    assert "raises.py:9: process raised ValueError: threshold must be positive" in str(error)
    assert np.all(data == 7.0), "a failed block is left as it came in"
    assert isinstance(error, pyproc.PyprocError)


def test_an_exception_in_init_names_init(write_script):
    path = write_script("class PyProcessor:\n    def __init__(self, p, n, r):\n        raise RuntimeError('no config')\n    def process(self, d):\n        pass\n")
    with pytest.raises(pyproc.ScriptError) as raised:
        pyproc.Processor(path, num_channels=2)
    assert (raised.value.callback, raised.value.type_name, raised.value.line) == ("__init__", "RuntimeError", 3)


@pytest.mark.parametrize(
    "bad, kind, words",
    [
        (np.zeros((4, 16)), TypeError, "dtype float64"),
        (np.zeros((4, 16, 1), np.float32), ValueError, "3 dimensions"),
        (np.zeros((16, 4), np.float32).T, ValueError, "not C-contiguous"),
        (np.zeros((3, 16), np.float32), ValueError, "3 channels"),
        ([[0.0] * 16] * 4, TypeError, "numpy.ndarray of float32"),
    ],
)
def test_a_block_of_the_wrong_kind_raises_a_clear_error(bad, kind, words):
    p = pyproc.Processor.from_source(DOUBLER, num_channels=4)
    with pytest.raises(kind, match=words):
        p.process(bad)


def test_a_block_of_no_samples_reaches_the_script():
    p = pyproc.Processor.from_source(DOUBLER, num_channels=4)
    assert p.process(np.zeros((4, 0), np.float32)).passed_through is None
    data = block()
    expected = data * 2
    p.process(data)
    assert np.array_equal(data, expected)


def test_a_read_only_block_is_refused():
    p = pyproc.Processor.from_source(DOUBLER, num_channels=4)
    data = block()
    data.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        p.process(data)


def test_a_missing_script_says_which_and_what_to_do(tmp_path):
    with pytest.raises(pyproc.PyprocError, match=r"cannot read the script .*missing\.py.*\nfix: check the path"):
        pyproc.Processor(tmp_path / "missing.py", num_channels=2)


def test_a_grant_to_a_missing_folder_names_the_flag(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(pyproc.PyprocError, match=f"--allow-read {missing}"):
        pyproc.Processor.from_source(DOUBLER, num_channels=2, allow_read=[missing])


HANDLERS = """
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.seen = []
    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.seen.append(("ttl", source_node, channel, sample_number, line, state))
    def handle_spike(self, source_node, electrode_name, num_channels, num_samples, sample_number, sorted_id, spike_data):
        self.seen.append(("spike", electrode_name, num_channels, num_samples, sample_number, sorted_id, float(spike_data.min())))
    def process(self, data):
        for i, seen in enumerate(self.seen):
            print(seen)
            self.processor.add_python_event(i, True, sample_number=seen[3] if seen[0] == "ttl" else seen[4])
        self.seen = []
        if data.shape[1]:
            self.processor.add_python_spike(1, self.processor.first_sample_number + 3, sorted_id=2)
"""


def test_events_and_spikes_reach_the_handlers_before_process_and_emitted_ones_come_back(capsys):
    p = pyproc.Processor.from_source(HANDLERS, num_channels=4)
    p.start_acquisition()
    p.handle_ttl_event(10, 3, True, channel="Laser", source_node=7)
    waveform = np.full((4, 40), -5.0, dtype=np.float32)
    p.handle_spike(20, waveform, electrode_name="Tetrode 2", sorted_id=1, source_node=7)
    out = p.process(block(), first_sample=0)
    assert out.events == [pyproc.TtlEvent(10, 0, True), pyproc.TtlEvent(20, 1, True)]
    assert [(s.sample_number, s.channel, s.sorted_id, s.waveform) for s in out.spikes] == [(3, 1, 2, None)]
    printed = capsys.readouterr().out
    assert "('ttl', 7, 'Laser', 10, 3, True)" in printed
    assert "('spike', 'Tetrode 2', 4, 40, 20, 1, -5.0)" in printed


RECORDS = """
import os
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.dir = None
    def start_recording(self, recording_dir):
        self.dir = recording_dir
    def process(self, data):
        if self.dir:
            with open(os.path.join(self.dir, "mean.txt"), "a") as f:
                f.write(f"{float(data.mean()):.1f}\\n")
    def stop_recording(self):
        self.dir = None
"""


def test_files_written_while_recording_land_in_the_recording_folder(tmp_path):
    root = tmp_path / "recordings"
    (root / "session1").mkdir(parents=True)
    p = pyproc.Processor.from_source(RECORDS, num_channels=2, recording_root=root)
    p.start_acquisition()
    p.start_recording(root / "session1")
    p.process(block(2, 8, 2.0))
    p.process(block(2, 8, 3.0))
    p.stop_recording()
    p.process(block(2, 8, 4.0))
    assert (root / "session1" / "mean.txt").read_text() == "2.0\n3.0\n"


def test_a_recording_folder_outside_the_recording_root_is_refused_with_the_keyword_to_use(tmp_path):
    (tmp_path / "root").mkdir()
    p = pyproc.Processor.from_source(RECORDS, num_channels=2, recording_root=tmp_path / "root")
    with pytest.raises(pyproc.PyprocError, match=r"start_recording\(/etc\): .* recording_root .*\nfix: make the Processor with recording_root="):
        p.start_recording("/etc")


def test_reload_takes_new_code_and_a_failing_reload_keeps_the_old():
    p = pyproc.Processor.from_source(DOUBLER, num_channels=1)
    p.start_acquisition()
    p.reload(DOUBLER.replace("data *= 2", "data += 1"))
    data = block(1, 4, 1.0)
    p.process(data)
    assert np.all(data == 2.0)
    with pytest.raises(pyproc.ScriptError, match="SyntaxError"):
        p.reload("class PyProcessor(:\n")
    p.process(data)
    assert np.all(data == 3.0)


def test_denials_list_what_the_script_was_refused():
    # A host file outside /tmp (the sandbox's own /tmp hides the host's, and a checkout
    # may well live there).
    secret = Path("/etc/hosts")
    source = f"""
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        try:
            open({str(secret)!r})
        except PermissionError:
            pass
    def process(self, data):
        pass
"""
    p = pyproc.Processor.from_source(source, num_channels=1)
    assert p.denials.count == 1
    callback, what, fix = p.denials.first[0]
    assert (callback, what, fix) == ("__init__", f"read {secret}", f"--allow-read {secret}")
    assert p.stats["restarts"] == 0 and p.status == "Running"


RENDEZVOUS = """
import os, time
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
    def process(self, data):
        open(os.path.join({folder!r}, {me!r}), "w").close()
        start = time.monotonic()
        while time.monotonic() - start < 5.0:
            if os.path.exists(os.path.join({folder!r}, {other!r})):
                self.processor.add_python_event(1, True)   # met the other thread inside process
                return
        self.processor.add_python_event(2, True)           # waited alone: no overlap
"""


def test_two_processors_on_two_threads_are_inside_process_at_the_same_time(tmp_path):
    # Each script announces itself with a file and waits (up to 5 s) for the other's: both
    # can meet only if both threads are inside `process` at once, i.e. the GIL is released.
    processors = [
        pyproc.Processor.from_source(RENDEZVOUS.format(folder=str(tmp_path), me=me, other=other), num_channels=1, allow_write=[tmp_path], deadline_ms=20000)
        for me, other in (("a", "b"), ("b", "a"))
    ]
    for p in processors:
        p.start_acquisition()
    ready = threading.Barrier(2)
    results = [None, None]

    def work(i):
        ready.wait()
        results[i] = processors[i].process(block(1, 8)).events

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[pyproc.TtlEvent(0, 1, True)]] * 2
