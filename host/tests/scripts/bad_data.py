# data[0, 0] chooses a mistake people make with `data`.
import numpy as np


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.kept = None

    def process(self, data):
        case = int(data[0, 0])
        if case == 1:
            data = data * 2          # rebinding: the block is not changed
        elif case == 2:
            data.resize((1, 1))      # numpy refuses: the array does not own its memory
        elif case == 3:
            data.shape = (data.shape[1], data.shape[0])
        elif case == 4:
            data.dtype = np.int32
        elif case == 5:
            data[:] = np.nan
            data[0, 1] = np.inf
        elif case == 6:
            self.kept = data         # kept, and edited during a later block
        elif case == 7:
            self.kept[:] = 42.0
