"""What a script can import, and what a `ModuleNotFoundError` tells it.

CPython's own hint (site-packages, virtual environments) does not apply in the sandbox.
`not_found` says instead where pyproc looked: the folders on `sys.path` outside the
interpreter's zip (the script's folder first, when the sandbox shows it), and the
interpreter's packages, listed with their versions from `PACKAGES_LIST` (made by the host
from the pinned wheel's MANIFEST, `host/src/engine/packages.rs`).
"""

import os
import sys

from _pyproc_installed import PACKAGES_LIST, STDLIB_ZIP

_packages = None


def packages():
    """[(import name, distribution, version)], as the host listed them (empty if unreadable)."""
    global _packages
    if _packages is None:
        try:
            with open(PACKAGES_LIST, encoding="utf-8") as listed:
                _packages = [tuple(line.split()) for line in listed if len(line.split()) == 3]
        except OSError:
            _packages = []
    return _packages


def not_found(name, script):
    """The message for `import name` failing in `script` (its path); None to keep Python's
    (a missing submodule of a package that was found)."""
    top = name.partition(".")[0]
    if top != name and top in sys.modules:
        return None
    folder = os.path.dirname(script) if os.path.isabs(script) else None
    outside_zip = [p for p in sys.path if p != STDLIB_ZIP and not p.startswith(STDLIB_ZIP + "/")]
    lines = [f"No module named '{name}'. pyproc looked for it in:"]
    for entry in outside_zip:
        what = " (the script's folder)" if entry == folder else ""
        # The import system has already looked: its cache says whether it found a folder.
        if entry in sys.path_importer_cache and sys.path_importer_cache[entry] is None:
            what += ", which is not a readable folder in the sandbox"
        lines.append(f"  {entry or os.getcwd()}{what}")
    listed = packages()
    names = ", ".join(_shown(*p) for p in listed) or "(their list is unreadable)"
    lines.append(f"  the interpreter: the standard library and {names}")
    for import_name, distribution, _ in listed:
        if _normal(distribution) == _normal(top) and import_name != top:
            lines.append(f"{distribution} is in the interpreter: import it as '{import_name}'.")
    if folder and folder not in outside_zip:
        lines.append(
            f"The script's folder {folder} is not readable in the sandbox, so modules beside the "
            f"script cannot be imported: --no-script-folder hides it (in Rust, Grants::script_folder); "
            f"without that flag pyproc shows it, and --allow-read shows other folders.")
    lines.append("A script cannot install packages.")
    return "\n".join(lines)


def _shown(import_name, distribution, version):
    if _normal(distribution) == _normal(import_name):
        return f"{import_name} {version}"
    return f"{import_name} ({distribution} {version})"


def _normal(name):
    return name.lower().replace("-", "_").replace(".", "_")
