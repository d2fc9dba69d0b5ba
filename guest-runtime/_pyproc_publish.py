"""`publish(name, value)`: hands the host a copy of `value` as the latest under `name`, for
plots. The frame (`PUBLISH`, fields in guest-runtime/README.md) names the array's bytes in
this interpreter's memory; the host copies them from there during the call, so nothing is
copied here beyond making the array contiguous and little-endian when it is not.

Caps (the host's, `host/src/published.rs`): PUBLISH_MAX_BYTES per value, PUBLISH_MAX_NAMES
names, PUBLISH_MAX_NAME_BYTES bytes of UTF-8 per name, PUBLISH_MAX_DIMS dimensions. What
breaks one raises here (ValueError or TypeError) and nothing is sent."""

import struct
import weakref

import _host
import numpy as np

from _pyproc_wire import (PUBLISH, PUBLISH_DTYPES, PUBLISH_FORMAT, PUBLISH_MAX_BYTES, PUBLISH_MAX_DIMS,
                          PUBLISH_MAX_NAME_BYTES, PUBLISH_MAX_NAMES)

_call = _host.call
_header = struct.Struct("<B" + PUBLISH_FORMAT[1:])  # with the opcode
_CODES = {np.dtype(s): code for code, s in enumerate(PUBLISH_DTYPES)}
_LITTLE = {np.dtype(s).newbyteorder(">"): np.dtype(s) for s in PUBLISH_DTYPES}
_DEFAULT_INT = np.asarray(0).dtype
_frames = {}  # (name, dtype code, shape) -> the frame's bytes after the address words
# name -> what the last array sent under it as it was needs no check again: a weak reference
# to it, its shape, strides and dtype, the header's fields and the frame's tail. Scripts
# mostly publish the same array (the block `process` gets, a buffer of their own) again and
# again; finding it here costs a fraction of the checks and of `__array_interface__`. (An
# array that `ndarray.resize(..., refcheck=False)` moved and then gave back its old shape
# would be read from its old place: garbage in the plot, from the script's own memory.)
_sent = {}


def publish(names, sample_number, name, value):
    """Sends `value` under `name`; `names` is the set of names this interpreter has
    published (for the names cap)."""
    sent = _sent.get(name) if type(name) is str else None
    if (sent is not None and sent[0]() is value and value.shape == sent[1] and value.strides == sent[2]
            and value.dtype is sent[3]):
        _call(_header.pack(PUBLISH, sample_number, *sent[4]) + sent[5])
        return
    if type(name) is not str:
        raise TypeError(f"publish: name must be a str, got {type(name).__name__}")
    encoded = name.encode("utf-8")
    if not 0 < len(encoded) <= PUBLISH_MAX_NAME_BYTES:
        raise ValueError(f"publish: a name has 1 to {PUBLISH_MAX_NAME_BYTES} bytes of UTF-8, got {len(encoded)}")
    array = np.asarray(value)
    if array.dtype == _DEFAULT_INT and not isinstance(value, (np.ndarray, np.generic)):
        # Python ints are int32 here (wasm32's C long): publish them as int64, as a 64-bit
        # CPython would make them.
        array = array.astype(np.int64)
    dtype = _LITTLE.get(array.dtype, array.dtype)
    code = _CODES.get(dtype)
    if code is None:
        raise TypeError(f"publish: {name!r} has dtype {array.dtype}; pyproc publishes bool, int8-64, "
                        f"uint8-64, float32 and float64 (convert with .astype(np.float32))")
    if array.ndim > PUBLISH_MAX_DIMS:
        raise ValueError(f"publish: {name!r} has {array.ndim} dimensions; at most {PUBLISH_MAX_DIMS}")
    if array.nbytes > PUBLISH_MAX_BYTES:
        raise ValueError(f"publish: {name!r} holds {array.nbytes} bytes; a published value holds at most "
                         f"{PUBLISH_MAX_BYTES} (decimate it, or publish a part)")
    if name not in names:
        if len(names) >= PUBLISH_MAX_NAMES:
            raise ValueError(f"publish: {name!r} would be name {len(names) + 1}; a processor publishes "
                             f"under at most {PUBLISH_MAX_NAMES} names")
        names.add(name)
    if dtype is not array.dtype or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype)
    key = (name, code, array.shape)
    tail = _frames.get(key)
    if tail is None:
        tail = struct.pack(f"<{array.ndim}I", *array.shape) + encoded
        if len(_frames) < 4 * PUBLISH_MAX_NAMES:
            _frames[key] = tail
    addr = array.__array_interface__["data"][0] if array.nbytes else 0
    fields = (code, array.ndim, addr, array.nbytes)
    _call(_header.pack(PUBLISH, sample_number, *fields) + tail)
    if array is value:
        # Sent as it was (no copy made here): the same array, unchanged, goes out as it is.
        _sent[name] = (weakref.ref(value), value.shape, value.strides, value.dtype, fields, tail)
