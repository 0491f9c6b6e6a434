"""Stylizer checkpoints: the weights plus the record later stages need (export, engine).

A checkpoint is a torch.save'd dict:
  format        "vst-stylizer" (refuses anything else with one line)
  state_dict    Stylizer weights
  arch          {"width": 48 | 128, "upsample": "deconv" | "resize" | "bilinear" | "subpixel"}
  style         style name (the style image's stem)
  io            vst.core.convention.FRAMES: NCHW, RGB, float32, [0, 1]
  config        the TrainConfig as plain values
  vst_version   the version that wrote it
  training      {"iteration", "optimizer", "loss_weights", "vgg"} for --resume
"""
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .convention import FRAMES
from .errors import InputError
from .files import write_atomically
from .stylizer import Stylizer
from .version import vst_version

FORMAT = "vst-stylizer"


@dataclass
class Checkpoint:
    stylizer: Stylizer
    style: str
    config: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    vst_version: str = field(default_factory=vst_version)

    def save(self, path: Path) -> None:
        """Write atomically: a crash or Ctrl-C leaves the previous file, never half of one."""
        record = {
            "format": FORMAT,
            "state_dict": self.stylizer.state_dict(),
            "arch": {"width": self.stylizer.width, "upsample": self.stylizer.upsample},
            "style": self.style,
            "io": FRAMES.as_record(),
            "config": self.config,
            "vst_version": self.vst_version,
            "training": self.training,
        }
        write_atomically(path, lambda file: torch.save(record, file))

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such checkpoint")
        try:
            record = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for foreign or corrupt files
            raise InputError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise InputError(f"{path}: not a vst stylizer checkpoint")
        try:
            stylizer = Stylizer(**record["arch"])
            stylizer.load_state_dict(record["state_dict"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            reason = str(exc).splitlines()[0]
            raise InputError(f"{path}: weights do not fit the recorded architecture ({reason})") from None
        return cls(stylizer, record["style"], record["config"], record["training"],
                   record["vst_version"])
