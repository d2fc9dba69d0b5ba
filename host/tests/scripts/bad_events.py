# data[0, 0] selects which refused add_python_event call to make.
CASES = [
    lambda p: p.add_python_event("1", True),
    lambda p: p.add_python_event(1.5, True),
    lambda p: p.add_python_event(1, "on"),
    lambda p: p.add_python_event(2**31, True),
    lambda p: p.add_python_event(1, [1]),
    lambda p: p.add_python_event(1, True, sample_number=2.5),
    lambda p: p.add_python_event(1, True, 5, 6),
    lambda p: p.add_python_event(1),
    lambda p: p.add_python_event(1, True, when=3),
]


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        case = int(data[0, 0])
        if case >= 0:
            CASES[case](self.processor)
        else:
            # Accepted forms, converted as the original plugin converts them.
            import numpy as np
            self.processor.add_python_event(np.int64(7), np.bool_(True))
            self.processor.add_python_event(0, 0, sample_number=self.processor.first_sample_number + 3)
            self.processor.add_python_event(255, 1)
            self.processor.add_python_event(256, True)
            self.processor.add_python_event(-1, None)
