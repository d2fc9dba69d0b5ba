"""A viewer's side of plots: the script's `PyVisualizer` in an interpreter of its own.

`VIEW` carries the latest published values (fields in guest-runtime/README.md); `update`
gets them as a dict name -> numpy array (a 0-d value as a numpy scalar) and returns a
matplotlib Figure, or None for "unchanged". The figure is drawn on its Agg canvas and the
canvas's RGBA pixels (`fig.canvas.buffer_rgba()`) go to the host as the published value
`figure`, rows x columns x 4 uint8; no image file is made here."""

import struct

import numpy as np

import _pyproc_publish
from _pyproc_wire import PUBLISH_DTYPES

_DTYPES = tuple(np.dtype(s) for s in PUBLISH_DTYPES)
FIGURE = "figure"


def _unpack_str(buf, at):
    (n,) = struct.unpack_from("<I", buf, at)
    return bytes(buf[at + 4:at + 4 + n]).decode("utf-8"), at + 4 + n


def decode(cmd):
    """The VIEW command's values, as a dict; copies, since the area is reused."""
    (count,) = struct.unpack_from("<I", cmd, 1)
    at = 5
    published = {}
    for _ in range(count):
        name, at = _unpack_str(cmd, at)
        code, ndim = cmd[at], cmd[at + 1]
        shape = struct.unpack_from(f"<{ndim}I", cmd, at + 2)
        at += 2 + 4 * ndim
        _sample_number, nbytes = struct.unpack_from("<qI", cmd, at)
        at += 12
        dtype = _DTYPES[code]
        value = np.frombuffer(cmd, dtype, nbytes // dtype.itemsize, at).copy().reshape(shape)
        published[name] = value[()] if ndim == 0 else value
        at += nbytes
    return published


def check_class(module, path):
    """The script's PyVisualizer, or an AttributeError that names the fix."""
    cls = getattr(module, "PyVisualizer", None)
    if not isinstance(cls, type):
        raise AttributeError(
            f"{path} defines no class PyVisualizer, which draws the plots: add `class PyVisualizer` "
            f"with __init__(self, num_channels, sample_rate) and update(self, published) returning a "
            f"matplotlib Figure (or None)")
    return cls


def render(instance, published, names):
    """Calls `update`; publishes the figure's pixels when it returned one."""
    figure = instance.update(published)
    if figure is None:
        return
    from matplotlib.figure import Figure
    if not isinstance(figure, Figure):
        raise TypeError(f"update returned {type(figure).__name__}; it must return a matplotlib Figure or None")
    canvas = figure.canvas
    if not hasattr(canvas, "buffer_rgba"):
        # A Figure made without pyplot has a canvas that cannot draw: give it Agg's.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    _pyproc_publish.publish(names, 0, FIGURE, pixels)
