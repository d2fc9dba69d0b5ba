# For the C++ plots test: process publishes a ramp that moves with every block and the
# block count; the PyVisualizer draws the ramp on a small 120 x 80 pixel figure.
import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.blocks = 0

    def process(self, data):
        self.blocks += 1
        self.processor.publish("ramp", np.roll(np.arange(64, dtype=np.float32), self.blocks))
        self.processor.publish("blocks", self.blocks)


class PyVisualizer:
    def __init__(self, num_channels, sample_rate):
        from matplotlib.figure import Figure
        self.figure = Figure(figsize=(3, 2), dpi=40)
        self.axes = self.figure.add_subplot()
        self.line, = self.axes.plot(np.arange(64), np.zeros(64))
        self.axes.set_ylim(0, 64)

    def update(self, published):
        if "ramp" not in published:
            return None
        self.line.set_ydata(published["ramp"])
        return self.figure
