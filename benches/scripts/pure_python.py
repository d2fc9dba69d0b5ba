# Pure Python over one channel's samples: a running mean and the samples that rise above
# it by a threshold, one interpreted loop iteration per sample (numpy only hands the
# samples over as Python floats).
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.mean = 0.0
        self.above = 0

    def process(self, data):
        mean = self.mean
        above = 0
        for x in data[0].tolist():
            mean += 0.01 * (x - mean)
            if x - mean > 50.0:
                above += 1
        self.mean = mean
        self.above = above
