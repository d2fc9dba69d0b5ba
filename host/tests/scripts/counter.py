# Adds STEP to every sample; the reload tests rewrite STEP (and break the file).
STEP = 1.0


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        pass

    def process(self, data):
        data += STEP
