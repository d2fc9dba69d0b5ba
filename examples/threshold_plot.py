"""Threshold detector with a plot: a TTL pulse on line 1 (on, then off one sample later)
where channel 0 falls below an adaptive threshold, K times its running noise level below
its median (extracellular spikes point down), and a PyVisualizer that draws the signal, the
threshold and the detected crossings.

It runs as a plain processor (`pyproc run threshold_plot.py`): PyVisualizer is then never
constructed. With `pyproc run threshold_plot.py --plots frames/` a second sandboxed
interpreter draws a figure about ten times a second from what `process` published, and
pyproc writes each as a PNG.
"""

import numpy as np
import oe_pyprocessor

CHANNEL = 0
K = 5.0            # threshold = median - K x the noise level (median absolute deviation)
LINE = 1
SHOWN = 4096       # samples the plot shows


class PyProcessor:

    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.channel = min(CHANNEL, num_channels - 1)
        self.noise = None   # running noise estimate, in microvolts
        self.below = False  # was the last sample seen below threshold?

    def process(self, data):
        x = data[self.channel]
        if x.size == 0:
            return
        baseline = float(np.median(x))
        noise = float(np.median(np.abs(x - baseline))) / 0.6745 + 1e-6
        self.noise = noise if self.noise is None else 0.9 * self.noise + 0.1 * noise
        threshold = baseline - K * self.noise
        below = x < threshold
        falling = np.flatnonzero(below & ~np.concatenate(([self.below], below[:-1])))
        first = self.processor.first_sample_number
        for i in falling:
            self.processor.add_python_event(LINE, True, sample_number=first + int(i))
            self.processor.add_python_event(LINE, False, sample_number=first + int(i) + 1)
        self.below = bool(below[-1])
        # For the plot: the signal (publish copies it), the threshold and the crossings.
        self.processor.publish("signal", x)
        self.processor.publish("threshold", threshold)
        self.processor.publish("crossings", falling)

    def start_acquisition(self):
        self.below = False


class PyVisualizer:
    """Runs in its own interpreter, never on the block path."""

    def __init__(self, num_channels, sample_rate):
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        self.sample_rate = sample_rate
        self.figure = Figure(figsize=(8, 3), dpi=100)
        self.axes = self.figure.add_subplot()
        self.signal, = self.axes.plot([], [], lw=0.6, color="tab:blue", label="signal")
        self.threshold = self.axes.axhline(0, color="tab:red", lw=1, label="threshold")
        self.events, = self.axes.plot([], [], "^", color="tab:orange", label="crossing")
        self.axes.set_xlabel("time in block (ms)")
        self.axes.set_ylabel("µV")
        self.axes.legend(loc="upper right", fontsize=8)
        self.figure.tight_layout()

    def update(self, published):
        if "signal" not in published:
            return None
        whole = published["signal"]
        x = whole[-SHOWN:]
        t = np.arange(x.size) * 1000.0 / self.sample_rate
        threshold = float(published["threshold"])
        crossings = published.get("crossings", np.zeros(0, np.intp))
        crossings = crossings - (whole.size - x.size)
        crossings = crossings[(crossings >= 0) & (crossings < x.size)]
        self.signal.set_data(t, x)
        self.threshold.set_ydata([threshold, threshold])
        low, high = min(float(x.min()), threshold), max(float(x.max()), 0.0)
        margin = 0.15 * (high - low) + 1.0
        self.events.set_data(t[crossings], np.full(crossings.size, low - margin / 2))
        self.axes.set_xlim(0, max(t[-1], 1e-3))
        self.axes.set_ylim(low - margin, high + margin)
        return self.figure
