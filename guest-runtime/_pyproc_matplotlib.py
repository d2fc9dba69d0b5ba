"""matplotlib in the sandbox.

matplotlib opens its data files (`matplotlibrc`, fonts, style sheets) with `open()` in
`mpl-data/` beside its own code, which here is inside the interpreter's zip, where `open()`
cannot read. The host unpacks that folder once, at install, into `MATPLOTLIB_DATA`
(`host/src/engine/package_data.rs`); `install()` points matplotlib there: its
`get_data_path()` answers that folder (the function is replaced in matplotlib's module
code before the module runs, since the module reads its defaults while it is imported).

The backend is Agg (no display), the defaults are read from the unpacked `matplotlibrc`,
and matplotlib's config and cache folder is `/tmp/matplotlib`. Where that folder cannot be
made (no writable `/tmp`), matplotlib still works: it keeps no font cache and says so once
on stderr.
"""

import importlib.machinery
import os
import sys
import types

from _pyproc_installed import MATPLOTLIB_DATA

CONFIG_DIR = "/tmp/matplotlib"


def install():
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLCONFIGDIR", CONFIG_DIR)
    # Read before any config folder is looked at, so importing needs none.
    os.environ.setdefault("MATPLOTLIBRC", MATPLOTLIB_DATA + "/matplotlibrc")
    sys.meta_path.insert(0, _Finder())


class _Finder:
    """Finds `matplotlib` as the path finder does, with a loader that points it at its data."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec

    def invalidate_caches(self):
        pass


class _Loader:
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        code = self._loader.get_code(module.__name__)
        exec(_answering_data_path(code), module.__dict__)
        for name in ("get_configdir", "get_cachedir"):
            module.__dict__[name] = _without_writable_folder(module.__dict__[name])

    def __getattr__(self, name):  # resources, source, is_package: the zip's loader answers
        return getattr(self._loader, name)


def _answering_data_path(module_code):
    """matplotlib's module code with `get_data_path()` answering `MATPLOTLIB_DATA`."""
    consts = list(module_code.co_consts)
    for i, const in enumerate(consts):
        if isinstance(const, types.CodeType) and const.co_name == "get_data_path":
            source = (f"def get_data_path():\n"
                      f"    \"\"\"Return the path to Matplotlib data (unpacked by pyproc).\"\"\"\n"
                      f"    return {MATPLOTLIB_DATA!r}\n")
            namespace = {}
            exec(compile(source, const.co_filename, "exec"), namespace)
            consts[i] = namespace["get_data_path"].__code__.replace(
                co_firstlineno=const.co_firstlineno, co_qualname=const.co_qualname)
            return module_code.replace(co_consts=tuple(consts))
    raise ImportError(f"pyproc cannot point this matplotlib at its data files in {MATPLOTLIB_DATA}: "
                      f"its module defines no get_data_path()")


def _without_writable_folder(get_folder):
    """`get_configdir` / `get_cachedir` that answer MPLCONFIGDIR even when it cannot be
    written (matplotlib's own raise there, having no temporary folder to fall back on)."""

    def folder():
        wanted = os.environ.get("MPLCONFIGDIR") or CONFIG_DIR
        try:
            os.makedirs(wanted, exist_ok=True)
        except OSError:
            return wanted
        return get_folder() if os.access(wanted, os.W_OK) else wanted

    folder.__name__ = folder.__qualname__ = get_folder.__name__
    folder.__doc__ = get_folder.__doc__
    return folder
