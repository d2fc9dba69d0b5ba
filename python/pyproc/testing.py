"""Helpers for testing a PyProcessor script with pytest: the ``pyproc`` command's
synthetic stream (the same samples, TTL pulses and spikes for the same settings and seed)
and a loop that feeds it to a :class:`pyproc.Processor` block by block.

.. code-block:: python

    import pyproc, pyproc.testing as pt

    def test_my_filter_keeps_the_shape():
        p = pyproc.Processor("my_filter.py", num_channels=8, sample_rate=30000)
        fed = pt.feed(p, pt.synthetic_stream(channels=8, seconds=1))
        assert fed.output.shape == fed.input.shape
        assert not fed.events

The stream: 8 Hz, 50 µV oscillation plus 10 µV Gaussian noise on every channel; spikes of
two units per tetrode (channels 4k..4k+3) at about 5 Hz each, the waveform's negative peak
at the spike's sample number, -120 µV (unit 1) or -160 µV (unit 2) on one channel of the
tetrode and 0.8, 0.6 and 0.4 times that on the others; TTL line 0 on for 100 ms once a
second, from a quarter second in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, List

import numpy as np

from . import _native
from ._processor import Processor, Spike, TtlEvent


@dataclass(frozen=True)
class TtlEdge:
    """A TTL edge of the synthetic stream."""

    sample_number: int
    line: int
    state: bool


@dataclass(frozen=True)
class SyntheticSpike:
    """A spike drawn into the synthetic stream: its peak's sample number, its tetrode
    (channels ``4*electrode`` to ``4*electrode+3``), its unit (1 or 2) and its waveform
    (float32, 4 x 40: 8 samples before the peak, 32 from it on)."""

    sample_number: int
    electrode: int
    unit: int
    waveform: np.ndarray = field(compare=False)


@dataclass
class SyntheticBlock:
    """One block: the sample number of ``data[:, 0]``, the data (float32, channels x
    samples, µV), and the TTL edges and spikes that fall in it."""

    first_sample: int
    data: np.ndarray
    ttl: List[TtlEdge]
    spikes: List[SyntheticSpike]


def synthetic_stream(channels: int = 8, sample_rate: float = 30000.0, seconds: float = 1.0, block_size: int = 1024, seed: int = 1) -> Iterator[SyntheticBlock]:
    """The synthetic stream, block by block (``pyproc run --channels ... --seed ...``
    processes the same samples for the same settings)."""
    for first, data, ttl, spikes in _native.SyntheticStream(int(channels), float(sample_rate), float(seconds), int(block_size), int(seed)):
        yield SyntheticBlock(
            first,
            data,
            [TtlEdge(*e) for e in ttl],
            [SyntheticSpike(n, electrode, unit, w) for n, electrode, unit, w in spikes],
        )


def synthetic_recording(folder, channels: int = 8, sample_rate: float = 30000.0, seconds: float = 1.0, block_size: int = 1024, seed: int = 1) -> Path:
    """Writes the synthetic stream as an Open Ephys Binary recording under ``folder`` (as
    ``pyproc run --save-input folder``) and returns its recording folder
    (``folder/experiment1/recording1``)."""
    return Path(_native.write_synthetic_recording(os.fspath(folder), int(channels), float(sample_rate), float(seconds), int(block_size), int(seed)))


@dataclass
class Fed:
    """What :func:`feed` saw and got: ``input`` and ``output`` (channels x all samples),
    the TTL edges and spikes handed to the script (``ttl_in``, ``spikes_in``), what it
    emitted (``events``, ``spikes``), and the blocks that passed through untouched."""

    input: np.ndarray
    output: np.ndarray
    ttl_in: List[TtlEdge]
    spikes_in: List[SyntheticSpike]
    events: List[TtlEvent]
    spikes: List[Spike]
    passed_through: List[str]


def feed(processor: Processor, blocks: Iterable[SyntheticBlock], *, acquisition: bool = True) -> Fed:
    """Feeds ``blocks`` to ``processor`` as ``pyproc run`` does: per block, its TTL edges
    to ``handle_ttl_event`` (channel ``"Synthetic TTL"``, source node 100) and its spikes
    to ``handle_spike`` (electrode ``"Tetrode N"``, ``sorted_id`` the unit), then
    ``process``. With ``acquisition`` (default), ``start_acquisition`` first and
    ``stop_acquisition`` last. A :class:`pyproc.ScriptError` propagates."""
    inputs, outputs = [], []
    ttl_in: List[TtlEdge] = []
    spikes_in: List[SyntheticSpike] = []
    events: List[TtlEvent] = []
    spikes: List[Spike] = []
    passed: List[str] = []
    if acquisition:
        processor.start_acquisition()
    for block in blocks:
        for edge in block.ttl:
            processor.handle_ttl_event(edge.sample_number, edge.line, edge.state, channel="Synthetic TTL", source_node=100)
        for spike in block.spikes:
            processor.handle_spike(spike.sample_number, spike.waveform, electrode_name=f"Tetrode {spike.electrode + 1}", sorted_id=spike.unit, source_node=100)
        ttl_in += block.ttl
        spikes_in += block.spikes
        inputs.append(block.data.copy())
        emitted = processor.process(block.data, block.first_sample)
        outputs.append(block.data)
        events += emitted.events
        spikes += emitted.spikes
        if emitted.passed_through is not None:
            passed.append(emitted.passed_through)
    if acquisition:
        processor.stop_acquisition()
    channels = processor.num_channels
    empty = np.zeros((channels, 0), dtype=np.float32)
    return Fed(
        input=np.concatenate(inputs, axis=1) if inputs else empty,
        output=np.concatenate(outputs, axis=1) if outputs else empty,
        ttl_in=ttl_in,
        spikes_in=spikes_in,
        events=events,
        spikes=spikes,
        passed_through=passed,
    )
