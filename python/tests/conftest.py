"""Shared paths and helpers of the Python package's tests (run by tests/wheel.rs against
the installed wheel, or by hand: `pytest python/tests` in a venv holding the wheel)."""

import hashlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def tree_hashes(root: Path) -> dict:
    """Every regular file below root (relative path -> SHA-256)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def write_script(tmp_path):
    """Writes a script into tmp_path and returns its path."""

    def write(text: str, name: str = "script.py") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
