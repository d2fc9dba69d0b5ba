# In every block: line 2 on at first+10 and off at first+20 (explicit sample numbers), line
# 3 on at the block's start (default sample number), and a spike on channel 1 at first+5.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        first = self.processor.first_sample_number
        self.processor.add_python_event(2, True, sample_number=first + 10)
        self.processor.add_python_event(2, False, sample_number=first + 20)
        self.processor.add_python_event(3, True)
        self.processor.add_python_spike(1, first + 5)
