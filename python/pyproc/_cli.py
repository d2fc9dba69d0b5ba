"""The ``pyproc`` command installed with the package: the same program as the Rust CLI
(``pyproc run``, ``check``, ``compare``, ``new``, ``setup``)."""

import sys

from . import _native


def main() -> None:
    sys.exit(_native.main(["pyproc", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
