"""Paths as records hold them (model cards, result JSON, recorded command lines): relative
where they lie in or beside the working folder (../shared/data/...), else just a name — a
build machine's /tmp/... means nothing on another machine. And vst's cache folder."""
import os
from pathlib import Path


def portable(path: str | Path) -> str:
    path = str(path)
    if not os.path.isabs(path):
        return path
    nearby = os.path.relpath(path)
    # the root has no name to keep, and names no machine ("personal / research use")
    return nearby if not nearby.startswith(os.path.join(os.pardir, os.pardir)) else Path(path).name or path


def portable_words(text: str) -> str:
    """`text` with every absolute path in it (a word starting with /) made portable()."""
    return " ".join(portable(word) if os.path.isabs(word) else word for word in text.split(" "))


def cache_dir() -> Path:
    """vst's cache (decoded frames and flows, compiled models): $XDG_CACHE_HOME/vst."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vst"
