# What a typical script pays at start: numpy and scipy.signal.
import numpy as np
from scipy import signal


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.b, self.a = signal.butter(2, 300, btype="highpass", fs=sample_rate)

    def process(self, data):
        data -= np.mean(data, axis=1, keepdims=True)
