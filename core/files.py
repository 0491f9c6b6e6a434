"""Atomic file writes: output appears complete or not at all, even on Ctrl-C or a crash."""
import glob
import hashlib
import os
from pathlib import Path
from typing import BinaryIO, Callable


NAME_MAX = 255  # bytes in a file's name, on the file systems vst writes to (ext4, XFS, APFS, NTFS)


def temporary_sibling(path: Path) -> Path:
    """Where `path` is written before it is renamed into place: hidden, same folder (so the
    rename is atomic), unique per process; named by a digest of the name where the name is
    too long to carry more (a name the file system takes must not fail for its temporary)."""
    path = Path(path)
    return path.with_name(f".{_stem(path)}.{os.getpid()}.tmp")


def remove_temporaries(path: Path) -> None:
    """Every process's temporary_sibling of `path`: what a killed writer left behind."""
    path = Path(path)
    for temporary in path.parent.glob(f".{glob.escape(_stem(path))}.*.tmp"):
        temporary.unlink(missing_ok=True)


def _stem(path: Path) -> str:
    """What a temporary of `path` is named after: its name, or a digest of a long one."""
    if len(f".{path.name}.{2 ** 22}.tmp".encode()) <= NAME_MAX:  # the largest pid Linux gives
        return path.name
    return f"{hashlib.sha256(path.name.encode()).hexdigest()[:32]}{path.suffix[:16]}"


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call write(file) on a temporary file beside `path`, then rename it into place."""
    temporary = temporary_sibling(path)
    try:
        with open(temporary, "wb") as file:
            write(file)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
