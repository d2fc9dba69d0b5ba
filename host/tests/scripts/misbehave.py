# data[0, 0] chooses how to misbehave; 0 is a well-behaved `data += 1`.
import os
import sys


def recurse(n):
    return recurse(n + 1) + 1


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        print("init")

    def start_acquisition(self):
        print("start_acquisition")

    def start_recording(self, recording_dir):
        print("start_recording", recording_dir)

    def process(self, data):
        case = int(data[0, 0])
        data += 1.0
        if case == 1:
            while True:
                pass
        elif case == 2:
            sys.exit("leaving")
        elif case == 3:
            raise KeyboardInterrupt
        elif case == 4:
            os._exit(3)
        elif case == 5:
            recurse(0)
        elif case == 6:
            for _ in range(1000):
                print("x" * 1000)
        elif case == 7:
            for i in range(50):
                self.processor.add_python_event(1, bool(i % 2))
        elif case == 8:
            self.hog = __import__("numpy").ones(3 * 2**29, dtype="uint8")  # 1.5 GiB
        elif case == 10:
            __import__("time").sleep(0.5)  # blocks in one host call: no epoch yield
        elif case == 9:
            g = iter([1])
            for _ in range(200_000):
                g = (x for x in g)
            next(g)
