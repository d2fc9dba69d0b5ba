"""Makes the bandpass reference used by host/tests/examples.rs, with native CPython + scipy.

    python3 -m venv venv && venv/bin/pip install numpy scipy
    venv/bin/python host/tests/reference/make_bandpass_reference.py

Writes bandpass_input.npy (float32, channels x samples, a deterministic mix of tones and
noise) and bandpass_expected.npy: the same 2nd-order 500-2000 Hz Butterworth as
examples/bandpass_filter.py, applied to the WHOLE signal at once from a zero state. The
example filters block by block; the test checks that the two agree.
"""

from pathlib import Path

import numpy as np
from scipy import signal

HERE = Path(__file__).parent
SAMPLE_RATE = 30_000.0
CHANNELS = 4
SAMPLES = 12_345  # not a multiple of the block size: the last block is short

rng = np.random.default_rng(20261124)
t = np.arange(SAMPLES) / SAMPLE_RATE
x = np.empty((CHANNELS, SAMPLES))
for c in range(CHANNELS):
    x[c] = (80 * np.sin(2 * np.pi * 100 * t + c)        # below the band
            + 60 * np.sin(2 * np.pi * 1000 * t + 2 * c)  # in the band
            + 40 * np.sin(2 * np.pi * 6000 * t)          # above the band
            + 10 * rng.standard_normal(SAMPLES))
x = x.astype(np.float32)

sos = signal.butter(2, [500.0, 2000.0], btype="bandpass", fs=SAMPLE_RATE, output="sos")
expected = signal.sosfilt(sos, x, axis=1).astype(np.float32)

np.save(HERE / "bandpass_input.npy", x)
np.save(HERE / "bandpass_expected.npy", expected)
print(f"wrote {x.shape} input and expected output (numpy {np.__version__}, scipy {signal.__name__} "
      f"from scipy {__import__('scipy').__version__})")
