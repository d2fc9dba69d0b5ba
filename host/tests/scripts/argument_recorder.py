# Prints one JSON line per call: the callback's name and its arguments with their types.
import json
import numpy as np
import oe_pyprocessor


def describe(value):
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape),
                "writeable": bool(value.flags.writeable), "sum": float(value.sum())}
    return {"type": type(value).__name__, "value": value}


def report(name, *args):
    print(json.dumps({"callback": name, "args": [describe(a) for a in args]}))


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        report("__init__", type(processor).__module__ + "." + type(processor).__name__,
               num_channels, sample_rate)

    def process(self, data):
        report("process", data)

    def start_acquisition(self, *args):
        report("start_acquisition", *args)

    def stop_acquisition(self, *args):
        report("stop_acquisition", *args)

    def start_recording(self, *args):
        report("start_recording", *args)

    def stop_recording(self, *args):
        report("stop_recording", *args)

    def handle_ttl_event(self, *args):
        report("handle_ttl_event", *args)

    def handle_spike(self, *args):
        report("handle_spike", *args)
