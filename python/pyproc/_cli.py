"""The ``pyproc`` command installed with the package: the same program as the Rust CLI
(``pyproc run``, ``check``, ``compare``, ``new``, ``setup``)."""

import signal
import sys

from . import _native


def main() -> None:
    # Python ignores SIGPIPE; a command piped into `head` should just stop, as `cat` does.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(_native.main(["pyproc", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
