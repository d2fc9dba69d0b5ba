"""A 64-channel viewer: every channel's 1024 samples as one line, offset by channel (the
viewer rows). Its PyProcessor publishes each block whole."""

import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        self.processor.publish("block", data)


class PyVisualizer:
    def __init__(self, num_channels, sample_rate):
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = Figure(figsize=(8, 6), dpi=100)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_subplot()
        self.lines = None
        self.offsets = np.arange(num_channels, dtype=np.float32)[:, None] * 200.0

    def update(self, published):
        block = published["block"] + self.offsets
        if self.lines is None:
            self.lines = self.axes.plot(block.T, lw=0.5)
            self.axes.set_ylim(-200, 200 * block.shape[0])
        else:
            for line, y in zip(self.lines, block):
                line.set_ydata(y)
        return self.figure
