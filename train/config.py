"""Training configuration: a recipe (train.recipes.Recipe) plus the files and the run's own
settings; recorded, flat, in every checkpoint."""
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from vst.core.paths import cache_dir as vst_cache_dir

from .losses import LossWeights
from .recipes import Recipe, recipe_named, settings_of

PATHS = ("style", "out", "init", "vgg", "cache_dir", "log")


def init_upsample(init: Path | None) -> str | None:
    """The decoder (Recipe.upsample) of the checkpoint a run starts from: what a recipe whose
    upsample is None (a fine-tune) trains; None where that file is not here to read."""
    from vst.core.checkpoint import Checkpoint

    return Checkpoint.load(init).stylizer.upsample if init and Path(init).is_file() else None


@dataclass(frozen=True, kw_only=True)
class TrainConfig(Recipe):
    style: Path
    data: tuple[Path, ...]
    out: Path
    recipe: str | None = "video"            # the recipe or stage it started from; None: a record older than names
    device: str = "auto"
    seed: int = 0
    checkpoint_every: int = 100
    resume: bool = False
    init: Path | None = None                # weights to start from (fine-tuning); Adam starts anew
    vgg: Path | None = None
    cache_dir: Path = field(default_factory=vst_cache_dir)
    exclude: tuple[str, ...] = ()           # glob patterns of data files left out (held-out clips)
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
        if self.cache_dir == vst_cache_dir():
            record["cache_dir"] = None
        return record

    @classmethod
    def from_record(cls, record: dict) -> "TrainConfig":
        """A config as a checkpoint recorded it (as_record), back. A setting of the recipe an
        older record lacks takes that recipe's value, as the run had it then; the run's own
        settings take their defaults, except `recipe`, None where the record predates it;
        keys no TrainConfig has are left out."""
        names = {f.name for f in fields(cls)}
        base = recipe_named(record.get("recipe", "video"))
        values = {**settings_of(base), "recipe": None, **{k: v for k, v in record.items() if k in names}}
        if values.get("cache_dir") is None:  # recorded as None: vst's own cache, wherever it is
            values.pop("cache_dir", None)
        values.update({k: Path(values[k]) for k in PATHS if values.get(k) is not None},
                      data=tuple(Path(d) for d in values["data"]), exclude=tuple(values.get("exclude", ())),
                      size=tuple(values["size"]),
                      weights=LossWeights(**{**asdict(base.weights), **record.get("weights", {})}))
        return cls(**values)
