# Gain 2, except that the block starting at sample 768 (the fourth block of 256 samples)
# never ends: the interpreter is stopped at its deadline. A fresh interpreter gets later
# blocks only, so it runs normally. Each channel on its own: it may run as shards.
class PyProcessor:
    channel_independent = True

    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        if self.processor.first_sample_number == 768:
            while True:
                pass
        data *= 2.0
