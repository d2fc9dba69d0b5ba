# handle_ttl_event fails on line 9 (raises) and line 8 (never returns); process says which
# events it saw since the last block, and adds 1 to the data.
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.seen = []

    def process(self, data):
        print("process saw", self.seen)
        self.seen = []
        data += 1

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        if line == 9:
            raise ValueError("line 9 is not wired")
        if line == 8:
            while True:
                pass
        self.seen.append(sample_number)
