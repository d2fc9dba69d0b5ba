"""The scripts in examples/, each tested on the synthetic stream with pyproc.testing: the
way a scientist tests their own script."""

import numpy as np
import pytest

import pyproc
import pyproc.testing as pt
from conftest import EXAMPLES

RATE = 30000.0


def test_the_template_passes_data_through_and_prints_its_stream(capsys):
    p = pyproc.Processor(EXAMPLES / "processor_template.py", num_channels=8, sample_rate=RATE)
    fed = pt.feed(p, pt.synthetic_stream(channels=8, seconds=0.5))
    assert np.array_equal(fed.output, fed.input)
    assert fed.events == [] and fed.spikes == [] and fed.passed_through == []
    assert "Num Channels: 8 | Sample Rate: 30000.0" in capsys.readouterr().out


def test_the_bandpass_filter_removes_the_slow_oscillation_and_is_the_same_in_one_block_or_many():
    stream = list(pt.synthetic_stream(channels=4, seconds=1.0, seed=3))
    p = pyproc.Processor(EXAMPLES / "bandpass_filter.py", num_channels=4, sample_rate=RATE)
    assert p.channel_independent
    fed = pt.feed(p, stream)
    spectrum_in = np.abs(np.fft.rfft(fed.input[0]))
    spectrum_out = np.abs(np.fft.rfft(fed.output[0]))
    at_8_hz = 8  # one bin per Hz over one second
    assert spectrum_out[at_8_hz] < spectrum_in[at_8_hz] / 100, "the 8 Hz oscillation is outside 500-2000 Hz"
    at_1_khz = 1000
    assert spectrum_out[at_1_khz - 50 : at_1_khz + 50].mean() > 0.5 * spectrum_in[at_1_khz - 50 : at_1_khz + 50].mean()
    # The filter carries its state across blocks: one block of the whole second gives the same.
    whole = pyproc.Processor(EXAMPLES / "bandpass_filter.py", num_channels=4, sample_rate=RATE)
    whole.start_acquisition()
    data = fed.input.copy()
    whole.process(data, 0)
    np.testing.assert_allclose(data, fed.output, atol=1e-3)


def test_threshold_events_fire_at_every_crossing_at_the_exact_sample():
    blocks = list(pt.synthetic_stream(channels=2, seconds=1.0, seed=5))
    for b in blocks:
        b.data *= 3  # 150 µV oscillation: channel 0 crosses 100 µV several times a cycle
    p = pyproc.Processor(EXAMPLES / "threshold_events.py", num_channels=2, sample_rate=RATE)
    fed = pt.feed(p, blocks)
    above = fed.input[0] > 100.0
    changes = np.flatnonzero(above != np.concatenate(([False], above[:-1])))
    expected = [pyproc.TtlEvent(int(i), 1, bool(above[i])) for i in changes]
    assert len(expected) > 10
    assert fed.events == expected


def test_the_spike_detector_finds_every_negative_crossing_with_its_refractory_period():
    p = pyproc.Processor(EXAMPLES / "spike_detector.py", num_channels=8, sample_rate=RATE)
    fed = pt.feed(p, pt.synthetic_stream(channels=8, seconds=1.0, seed=2))
    # The same rule in numpy over the whole input.
    below = fed.input < -60.0
    crossings = below & ~np.concatenate((np.zeros((8, 1), bool), below[:, :-1]), axis=1)
    expected = []
    for channel in range(8):
        last = -(10**12)
        for i in np.flatnonzero(crossings[channel]):
            if i - last >= 30:  # 1 ms at 30 kHz
                expected.append((int(i), channel))
                last = i
    got = sorted((s.sample_number, s.channel) for s in fed.spikes)
    assert got == sorted(expected)
    # Every synthetic spike shows up on its electrode's strongest channel (gain 1 where
    # (channel + unit - 1) % 4 == 0) by its peak: at the crossing, or within the refractory
    # period of a crossing the oscillation and noise made just before.
    found = set(got)
    strongest = lambda s: 4 * s.electrode + (-(s.unit - 1)) % 4  # noqa: E731
    hits = [any((n, strongest(s)) in found for n in range(s.sample_number - 30, s.sample_number + 1)) for s in fed.spikes_in]
    assert len(hits) > 10 and all(hits)
    assert all(s.waveform is None for s in fed.spikes), "the script leaves the waveform to the host"


def test_a_script_error_in_a_fed_stream_propagates(write_script):
    path = write_script("class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n    def process(self, data):\n        if self.missing:\n            pass\n")
    p = pyproc.Processor(path, num_channels=4)
    with pytest.raises(pyproc.ScriptError) as raised:
        pt.feed(p, pt.synthetic_stream(channels=4, seconds=0.1))
    assert raised.value.type_name == "AttributeError" and raised.value.line == 5


def test_the_synthetic_stream_repeats_for_a_seed_and_marks_its_ttl_pulses():
    a = list(pt.synthetic_stream(channels=4, seconds=2.0, seed=9))
    b = list(pt.synthetic_stream(channels=4, seconds=2.0, seed=9))
    assert all(np.array_equal(x.data, y.data) for x, y in zip(a, b))
    edges = [(e.sample_number, e.state) for blk in a for e in blk.ttl]
    assert edges == [(7500, True), (10500, False), (37500, True), (40500, False)]
    assert [blk.first_sample for blk in a[:3]] == [0, 1024, 2048]
