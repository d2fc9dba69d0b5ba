# Emits line 1 if another processor's marker is visible in this interpreter, line 0 if
# not, then sets the marker in every place a careless host might share.
import builtins
import sys


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor

    def process(self, data):
        seen = hasattr(builtins, "pyproc_marker") or "pyproc_marker" in sys.modules
        self.processor.add_python_event(1 if seen else 0, True)
        builtins.pyproc_marker = True
        sys.modules["pyproc_marker"] = sys
