"""A style as a function on frames, for scripts and notebooks: vst.load("candy")(frame)."""
import os
import threading
from pathlib import Path

import numpy as np

from vst.core.style_mix import StyleMix

from .runner import open_runner
from .choice import KINDS


class StyleRunner:
    """One model on the backend vst-run would pick (or `backend`). Call it with a uint8 RGB
    frame (H, W, 3), or a batch (N, H, W, 3), and get the stylized frame(s) back, same shape
    and type. Calls from several threads take turns (a backend's inference request serves one
    frame at a time). A context manager; close() frees the runner (a TensorRT context, say),
    after which a call raises RuntimeError."""

    def __init__(self, model: str | Path, backend: str = "auto", strength: float = 1.0,
                 preserve_color: bool = False, precision: str = "auto"):
        if not isinstance(model, (str, Path)):
            raise TypeError(f"model must be a shipped style's name or a model file's path, got {model!r}")
        path = Path(model)
        # a file, or what is written as a path, is an engine: its own error says what is wrong with it
        names_a_file = path.suffix in KINDS or path.is_file() or os.sep in str(model)
        engine, style = (path, None) if names_a_file else (None, str(model))
        self.runner = open_runner(engine, style, backend, StyleMix(strength, preserve_color), precision)
        self.style, self.name = self.runner.style, self.runner.name
        self.notice = self.runner.notice
        self.turn, self.closed = threading.Lock(), False

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim not in (3, 4) or frame.shape[-1] != 3:
            raise ValueError(f"expected uint8 RGB frames (H, W, 3) or (N, H, W, 3), got "
                             f"{frame.dtype} {frame.shape}")
        if 0 in frame.shape:
            raise ValueError(f"expected frames of at least 1x1 pixels, got an empty array {frame.shape}")
        batch = np.ascontiguousarray(frame if frame.ndim == 4 else frame[None])
        with self.turn:
            if self.closed:
                raise RuntimeError(f"{self!r} is closed")
            out = np.stack([self.runner(one[None])[0] for one in batch])
        return out if frame.ndim == 4 else out[0]

    def close(self) -> None:
        with self.turn:
            if not self.closed:
                self.closed = True
                self.runner.close()

    def __enter__(self) -> "StyleRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StyleRunner({self.style!r} on {self.name})"
