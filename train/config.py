"""Training configuration: one dataclass, recorded in every checkpoint."""
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .losses import LossWeights


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vst"


@dataclass(frozen=True)
class TrainConfig:
    style: Path
    data: tuple[Path, ...]
    out: Path
    width: int = 48
    upsample: str = "deconv"
    size: tuple[int, int] = (640, 360)      # training frame (width, height), as the paper
    style_size: int | None = None           # style image's longer side; None: the frame's
    iters: int = 80_000
    batch_size: int = 2                     # frame pairs per iteration
    lr: float = 1e-3
    weights: LossWeights = field(default_factory=LossWeights)
    long_term: bool = False
    flow: str = "dis"
    device: str = "auto"
    seed: int = 0
    checkpoint_every: int = 1000
    resume: bool = False
    init: Path | None = None                # weights to start from (fine-tuning); Adam starts anew
    vgg: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    max_pairs_per_video: int | None = None
    exclude: tuple[str, ...] = ()           # glob patterns of data files left out (held-out clips)
    photo_motion: float = 1.0               # scale of the photo pairs' synthetic motion (synthetic.Motion)
    precision: str = "auto"                 # "auto" | "bf16" | "fp32": see trainer.training_precision
    log: Path | None = None                 # CSV of the loss terms; None: OUT with .csv

    @property
    def log_path(self) -> Path:
        return self.log or self.out.with_suffix(".csv")

    def as_record(self) -> dict:
        """Plain values only, so checkpoints load with torch.load(weights_only=True). Paths as
        they were given (vst.release.ship makes them portable for a model card); the default
        cache is left out: it is this machine's home folder."""
        def plain(value):
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, (tuple, list)):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value
        record = plain(asdict(self))
        if self.cache_dir == default_cache_dir():
            record["cache_dir"] = None
        return record
