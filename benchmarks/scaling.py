"""Batch and chunked throughput on 1..N Ray workers (`vst-bench --scaling`): the same videos
through vst-run's code (engine.batch), timed from the call to the last file written, Ray's
start and the workers' model loading included, as a user waits for them."""
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vst.engine.runner import ModelSpec
from vst.engine.batch import stylize_inputs
from vst.engine.chunks import FrameTimes
from vst.engine.cluster import Scaling
from vst.engine.job import VideoSettings


@dataclass(frozen=True)
class ScalingRun:
    mode: str          # "batch": each video whole on one worker; "chunked": cut at keyframes
    workers: int
    videos: int
    frames: int
    wall: float        # seconds

    @property
    def fps(self) -> float:
        return self.frames / self.wall

    def as_record(self) -> dict:
        return {"mode": self.mode, "workers": self.workers, "videos": self.videos, "frames": self.frames,
                "wall_s": round(self.wall, 2), "fps": round(self.fps, 2)}


def time_run(mode: str, videos: list[str], model: ModelSpec, settings: VideoSettings, workers: int,
             chunk_seconds: float | None) -> ScalingRun:
    with tempfile.TemporaryDirectory(prefix="vst-bench-") as folder:
        out = Path(folder) / ("out" if len(videos) > 1 else "out.mp4")
        began = time.perf_counter()
        outcomes = stylize_inputs(videos, out, model, settings, Scaling(workers, None, chunk_seconds),
                                  lambda line: None, lambda notice: None, progress=False)
        wall = time.perf_counter() - began
        frames = sum(len(FrameTimes.scan(str(o.task.out)).pts) for o in outcomes if o.line)
    return ScalingRun(mode, workers, len(videos), frames, wall)


def bench_scaling(videos: list[str], model: ModelSpec, settings: VideoSettings, workers: list[int]) -> list[ScalingRun]:
    """The videos as a batch (whole videos spread over the workers), then the first video
    alone cut into chunks of vst-run's default length, on each worker count; 1 worker runs in
    this process, without Ray."""
    runs = [time_run("batch", videos, model, settings, n, 0) for n in workers]
    runs += [time_run("chunked", videos[:1], model, settings, n, None) for n in workers if n > 1]
    return runs


def scaling_table(runs: list[ScalingRun]) -> str:
    rows = ["| mode | workers | videos | frames | wall s | fps | speed-up |", "|---|---|---|---|---|---|---|"]
    base = next((run for run in runs if run.mode == "batch" and run.workers == 1), None)
    for run in runs:
        ratio = f"{run.fps / base.fps:.2f}x" if base else ""
        rows.append(f"| {run.mode} | {run.workers} | {run.videos} | {run.frames} | {run.wall:.1f} | {run.fps:.1f} | {ratio} |")
    return "\n".join(rows)
