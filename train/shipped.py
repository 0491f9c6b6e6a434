"""Trained stylizers that ship inside the package (vst/train/models/NAME.pt), so that
`--style NAME` works on a fresh install. Each is a vst.train.checkpoint file without the
optimizer state."""
from pathlib import Path

from .errors import InputError

MODELS = Path(__file__).with_name("models")


def shipped_styles() -> list[str]:
    return sorted(path.stem for path in MODELS.glob("*.pt"))


def shipped_checkpoint(name: str) -> Path:
    path = MODELS / f"{name}.pt"
    if not path.is_file():
        raise InputError(f"no shipped style {name!r}; shipped: {', '.join(shipped_styles()) or 'none'}")
    return path
