# Gain 2, except that blocks starting at samples 768 to 4095 never end: the first one stops
# the interpreter, and so does the first block its replacement gets, so the processor backs
# off before the next restart. Blocks from sample 4096 on run normally.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        if 768 <= self.processor.first_sample_number < 4096:
            while True:
                pass
        data *= 2.0
