"""Atomic file writes: output appears complete or not at all, even on Ctrl-C or a crash."""
import glob
import os
from pathlib import Path
from typing import BinaryIO, Callable


def temporary_sibling(path: Path) -> Path:
    """Where `path` is written before it is renamed into place: hidden, same folder (so the
    rename is atomic), unique per process."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def remove_temporaries(path: Path) -> None:
    """Every process's temporary_sibling of `path`: what a killed writer left behind."""
    path = Path(path)
    for temporary in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        temporary.unlink(missing_ok=True)


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call write(file) on a temporary file beside `path`, then rename it into place."""
    temporary = temporary_sibling(path)
    try:
        with open(temporary, "wb") as file:
            write(file)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
