"""Stylize-only timing: Res48 and Res128 on each backend, on real frames at one resolution,
with the precision of each backend's output and how far the best one is from the floor.
Random weights by default (time does not depend on them), a shipped style's with `style`
and a checkpoint's with `checkpoint` (the precision figures of INT8 and BF16 mean most on a
trained model; a style and a checkpoint are timed side by side, e.g. a style and the network
it replaced)."""
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vst.core.errors import CommandError
from vst.core.style_mix import StyleMix
from vst.core.folded_upsampling import fold_upsampling
from vst.core.stylizer import Stylizer
from vst.core.quality import psnr
from vst.engine.torch_runner import TorchRunner

from .cost import ModelCost, model_cost
from .inputs import first_frames
from .machine import Peak
from .runners import BENCH_BACKENDS, BenchBackend, BenchModel, TimedRunner
from .timing import TURNS, Stats, Timed, time_interleaved

# §4.5.2 of the paper: per 1024x436 frame on a Tesla K80
PAPER_K80 = {"device": "Tesla K80 (paper, §4.5.2)", "frame": [1024, 436], "Res48_ms": 41.0, "Res128_ms": 98.0}
DEFAULT_FRAMES = {"cpu": 5, "cuda": 50}
DEFAULT_WARMUP = {"cpu": 2, "cuda": 10}


@dataclass(frozen=True)
class StylizeBench:
    width: int
    height: int
    clip: Path
    backends: tuple[str, ...] = tuple(b.key for b in BENCH_BACKENDS)
    models: tuple[int, ...] = (48, 128)
    frames: int | None = None      # timed frames; None: DEFAULT_FRAMES for the backend's device
    warmup: int | None = None
    seed: int = 0                  # random weights: time does not depend on their values
    mix: StyleMix = StyleMix()     # --strength / --preserve-color, in every backend's graph
    upsample: str = "subpixel"     # core.stylizer.UPSAMPLERS: the shipped styles' by default
    style: str | None = None       # a shipped style's weights (and width, upsampling) instead
    checkpoint: Path | None = None  # a vst-train checkpoint's, instead or beside the style

    def timed_models(self) -> list[BenchModel]:
        """The models timed, each a column of the tables: the style's and the checkpoint's
        (named by its file stem), else one of random weights per width, named Res48, Res128."""
        from vst.core.checkpoint import Checkpoint
        from vst.styles import shipped_checkpoint, shipped_model

        models = []
        if self.style is not None:
            # with no mix, the files vst-run runs; a mix is exported into the graph
            shipped = shipped_model(self.style, ".onnx") if self.mix == StyleMix() else None
            models.append(BenchModel(Checkpoint.load(shipped_checkpoint(self.style)).stylizer.eval(), self.style,
                                     self.mix, shipped))
        if self.checkpoint is not None:
            models.append(BenchModel(Checkpoint.load(self.checkpoint).stylizer.eval(), self.checkpoint.stem, self.mix))
        for width in () if models else self.models:
            torch.manual_seed(self.seed)
            models.append(BenchModel(Stylizer(width, self.upsample).eval(), "random", self.mix, label=f"Res{width}"))
        return models

    def timed_frames(self, device: str) -> int:
        return self.frames if self.frames is not None else DEFAULT_FRAMES[device]

    def warmup_frames(self, device: str) -> int:
        return self.warmup if self.warmup is not None else DEFAULT_WARMUP[device]


@dataclass
class BackendResult:
    backend: BenchBackend
    model: str                              # its column: BenchModel.label
    with_copies: Stats | None = None        # host clock, host frame in -> host frame out
    compute_only: Stats | None = None       # device events, GPU backends only
    psnr_db: float | None = None            # output vs PyTorch CPU FP32, 0-255 scale
    warmup: int | None = None               # untimed frames before each figure
    not_run: str | None = None              # why there are no figures

    @property
    def identical(self) -> bool:
        """Output equal to PyTorch CPU FP32's, bit for bit (PSNR infinite)."""
        return self.psnr_db == float("inf")

    @property
    def best(self) -> Stats | None:
        """The network's own time: compute only where copies exist, else the host figure."""
        return self.compute_only or self.with_copies

    def as_record(self) -> dict:
        return {"backend": self.backend.key, "label": self.backend.label, "device": self.backend.device,
                "precision": self.backend.precision, "model": self.model,
                "with_copies": self.with_copies and self.with_copies.as_record(),
                "compute_only": self.compute_only and self.compute_only.as_record(),
                # JSON has no infinity: identical outputs are a flag
                "psnr_vs_fp32_db": None if self.identical else self.psnr_db,
                "identical_to_fp32": self.identical, "warmup": self.warmup, "not_run": self.not_run}


@dataclass
class StylizeResults:
    settings: StylizeBench
    costs: dict[str, ModelCost] = field(default_factory=dict)  # by label
    results: list[BackendResult] = field(default_factory=list)

    @property
    def labels(self) -> tuple[str, ...]:
        """The timed models' labels, in the order they were timed: the tables' columns."""
        return tuple(self.costs)

    def result(self, key: str, model: str) -> BackendResult:
        return next(r for r in self.results if r.backend.key == key and r.model == model)

    def fastest(self, model: str, peaks: dict[str, Peak]) -> BackendResult | None:
        """The fastest backend of `model` in a precision whose peak was measured (not INT8)."""
        timed = [r for r in self.results if r.model == model and r.best
                 and r.backend.precision in peaks[r.backend.device].flops]
        return min(timed, key=lambda r: r.best.median_ms, default=None)


def log(message: str) -> None:
    print(f"vst-bench: {message}", file=sys.stderr, flush=True)


def open_backend(backend: BenchBackend, model: BenchModel,
                 settings: StylizeBench) -> tuple[BackendResult, TimedRunner | None]:
    """The backend's BackendResult, and its TimedRunner, or None with the result's not_run set."""
    result = BackendResult(backend, model.label)
    result.not_run = backend.missing()
    if result.not_run:
        return result, None
    log(f"{result.model} on {backend.label}")
    try:
        return result, backend.open(model, settings.width, settings.height)
    except (CommandError, RuntimeError) as exc:  # e.g. a plan that will not build
        result.not_run = f"could not open: {exc}"
        return result, None


def bench_backends(backends: list[BenchBackend], model: BenchModel, frames: list[np.ndarray],
                   reference: np.ndarray, settings: StylizeBench) -> list[BackendResult]:
    """Every backend opened at once (memory: the sum of them all) and timed in turns
    (timing.time_interleaved)."""
    opened: list[tuple[BackendResult, TimedRunner | None]] = []
    with ExitStack() as stack:
        for backend in backends:
            result, runner = open_backend(backend, model, settings)
            opened.append((result, runner))
            if runner is not None:
                stack.callback(runner.close)
        timed, into = [], []
        for result, runner in opened:
            if runner is None:
                continue
            result.psnr_db = psnr(runner.output(frames[0]), reference)
            device = result.backend.device
            result.warmup, count = settings.warmup_frames(device), settings.timed_frames(device)
            for field_name in ("with_copies", "compute_only"):
                step = getattr(runner, field_name)
                if step is not None:
                    timed.append(Timed(step, result.warmup, count))
                    into.append((result, field_name))
        if timed:
            log(f"timing {len(into)} figures in {TURNS} turns each")
        for (result, field_name), stats in zip(into, time_interleaved(timed, frames)):
            setattr(result, field_name, stats)
    return [result for result, _ in opened]


def bench_stylize(settings: StylizeBench) -> StylizeResults:
    frames = first_frames(str(settings.clip), settings.height, settings.width)
    chosen = [b for b in BENCH_BACKENDS if b.key in settings.backends]
    out = StylizeResults(settings)
    for model in settings.timed_models():
        # the FLOPs the backends run: resize up blocks folded, as every graph has them
        out.costs[model.label] = model_cost(fold_upsampling(model.stylizer), settings.width, settings.height)
        reference = TorchRunner(model.stylizer, "cpu", "fp32", settings.mix)(frames[0])
        out.results += bench_backends(chosen, model, frames, reference, settings)
    return out


def floors(results: StylizeResults, peaks: dict[str, Peak]) -> list[dict]:
    """Per model, how far the fastest backend in a precision whose peak was measured (not
    INT8) is from the machine's limit: its FLOP/s as a fraction of the measured peak in its
    precision, and the time the peaks allow."""
    records = []
    for model in results.labels:
        best = results.fastest(model, peaks)
        if best is None:
            continue
        cost, peak, precision = results.costs[model], peaks[best.backend.device], best.backend.precision
        peak_flops = peak.flops[precision]
        seconds = best.best.median_ms / 1000
        compute_s = cost.flops / peak_flops
        records.append({
            "model": model, "backend": best.backend.key, "precision": precision,
            "flops": cost.flops, "min_bytes": cost.min_bytes(precision),
            "layer_bytes": cost.layer_bytes(precision), "median_ms": best.best.median_ms, "flops_per_s": cost.flops / seconds,
            "peak_flops_per_s": peak_flops, "fraction_of_peak": cost.flops / seconds / peak_flops,
            "floor_ms": 1000 * max(compute_s, cost.min_bytes(precision) / peak.bandwidth),
            "layer_floor_ms": 1000 * max(compute_s, cost.layer_bytes(precision) / peak.bandwidth)})
    return records
