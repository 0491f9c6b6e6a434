"""End to end: a real video through vst-run's pipeline, beside the same backend timed on
the same frames alone. Efficiency = end-to-end fps / stylize-only fps; 1.0 means decoding
and encoding hide completely behind the stylizer."""
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vst.engine.runner import Runner
from vst.engine.job import JobResult, VideoJob, VideoSettings, stylize_video

from .inputs import first_frames
from .runners import HostRunner
from .timing import Stats, time_frames


@dataclass(frozen=True)
class VideoBench:
    video: str
    height: int | None = None       # scale as vst-run --height does
    max_frames: int | None = None
    frames: int = 5                 # stylize-only timed frames (vst-bench: 5 on CPU, 50 with a GPU)
    warmup: int = 2


@dataclass
class VideoResults:
    settings: VideoBench
    backend: str
    stylize_only: Stats
    run: JobResult

    @property
    def end_to_end_fps(self) -> float:
        return self.run.times.frames / self.run.times.wall

    @property
    def efficiency(self) -> float:
        return self.end_to_end_fps / self.stylize_only.fps

    def as_record(self) -> dict:
        times, info = self.run.times, self.run.info
        return {"video": self.settings.video, "backend": self.backend,
                "frame": [info.width, info.height], "frames": times.frames, "wall_s": times.wall,
                "end_to_end_fps": self.end_to_end_fps, "stylize_only": self.stylize_only.as_record(),
                "stage_fps": {stage: times.throughput(stage) for stage in ("decode", "stylize", "encode")},
                "efficiency": self.efficiency}


def bench_video(settings: VideoBench, runner: Runner) -> VideoResults:
    alone = HostRunner(lambda frames: runner.collect(runner.submit(frames)))
    stylize_only = time_frames(alone.with_copies, first_frames(settings.video, settings.height),
                               settings.warmup, settings.frames)
    with tempfile.TemporaryDirectory(prefix="vst-bench-") as folder:
        job = VideoJob(settings.video, Path(folder) / "bench.mp4",
                       VideoSettings(height=settings.height, max_frames=settings.max_frames))
        run = stylize_video(job, runner, progress=False)
    return VideoResults(settings, runner.name, stylize_only, run)
