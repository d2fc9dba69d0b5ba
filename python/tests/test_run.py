"""pyproc.run (the `pyproc run` pipeline from Python) and the `pyproc` command the wheel
installs."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pyproc
import pyproc.testing as pt
from conftest import EXAMPLES, tree_hashes

PYPROC = shutil.which("pyproc", path=os.path.dirname(sys.executable)) or "pyproc"


def test_run_over_the_synthetic_stream_returns_the_report(tmp_path):
    report = pyproc.run(EXAMPLES / "threshold_events.py", output=tmp_path / "out", channels=4, seconds=1.0, progress=False)
    assert (report.blocks, report.samples, report.channels) == (30, 30000, 4)
    assert (report.events_in, report.errors, report.exit_status, report.ok) == (2, {}, 0, True)
    assert set(report.per_block_latency) == {"p50_us", "p99_us", "max_us"}
    assert report.per_block_latency["p50_us"] <= report.per_block_latency["max_us"]
    assert str(report).startswith("input ") and "errors        none" in str(report)
    assert (tmp_path / "out/experiment1/recording1/structure.oebin").is_file()


def test_a_failing_callback_is_counted_not_raised(write_script):
    path = write_script("class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        raise KeyError('gain')\n")
    report = pyproc.run(path, channels=2, seconds=0.2, progress=False)
    assert report.exit_status == 2 and report.error_count == report.blocks == 6
    assert "KeyError: 'gain'" in report.errors["process"]["first"]


def test_a_missing_recording_raises_the_message_the_command_prints(tmp_path):
    missing = tmp_path / "nothere"
    with pytest.raises(pyproc.PyprocError) as raised:
        pyproc.run(EXAMPLES / "bandpass_filter.py", input=missing)
    command = subprocess.run([PYPROC, "run", str(EXAMPLES / "bandpass_filter.py"), "--input", str(missing)], capture_output=True, text=True)
    assert command.returncode == 1
    assert command.stderr.strip() == f"pyproc: error: {raised.value}"


def test_run_writes_the_same_recording_as_the_command(tmp_path):
    recording = pt.synthetic_recording(tmp_path / "input", channels=4, seconds=0.5)
    pyproc.run(EXAMPLES / "spike_detector.py", input=recording, output=tmp_path / "from_python", progress=False)
    done = subprocess.run([PYPROC, "run", str(EXAMPLES / "spike_detector.py"), "--input", str(recording), "--output", str(tmp_path / "from_command")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert tree_hashes(tmp_path / "from_python") == tree_hashes(tmp_path / "from_command")


def test_the_command_shows_its_help_and_runs_the_synthetic_stream():
    shown = subprocess.run([PYPROC, "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "Usage: pyproc <COMMAND>" in shown.stdout
    ran = subprocess.run([PYPROC, "run", str(EXAMPLES / "bandpass_filter.py"), "--seconds", "0.5", "--channels", "4"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "blocks        15" in ran.stdout and "errors        none" in ran.stdout
    wrong = subprocess.run([PYPROC, "bogus"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "unrecognized subcommand 'bogus'" in wrong.stderr


SLOW = """
import time
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass
    def process(self, data):
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            pass
"""


def test_a_run_killed_outright_leaves_no_output_folder_only_its_staging_folder(tmp_path, write_script):
    script = write_script(SLOW)
    output = tmp_path / "out"
    run = subprocess.Popen([PYPROC, "run", str(script), "--channels", "2", "--seconds", "60", "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.pyproc-partial-*")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # well into the blocks
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert run.returncode == -signal.SIGKILL
    assert not output.exists()
    assert len(list(tmp_path.glob(".out.pyproc-partial-*"))) == 1
    # The next run into the same output removes what the killed one left.
    again = subprocess.run([PYPROC, "run", str(EXAMPLES / "processor_template.py"), "--channels", "2", "--seconds", "0.2", "--output", str(output)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "did not finish" in again.stderr
    assert output.is_dir() and not list(tmp_path.glob(".out.pyproc-partial-*"))


def test_ctrl_c_stops_a_run_after_the_current_block_and_returns_the_shorter_report(write_script):
    script = write_script(SLOW)
    code = f"import pyproc; r = pyproc.run({str(script)!r}, channels=2, seconds=60, progress=False); print('interrupted', r.interrupted, r.exit_status, r.blocks)"
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # the whole run would take 90 s
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    interrupted, flag, status, blocks = out.split()
    assert (interrupted, flag, status) == ("interrupted", "True", "130")
    assert 0 < int(blocks) < 1758
    assert "stopping after this block" in err
