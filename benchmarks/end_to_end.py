"""End to end: a real video through vst-run's pipeline, beside the same backend timed on
the same frames alone. Efficiency = end-to-end fps / stylize-only fps; 1.0 means decoding
and encoding hide completely behind the stylizer."""
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vst.engine.backends import Backend
from vst.engine.job import JobResult, VideoJob, stylize_video
from vst.engine.video_io import Frame, VideoReader
from vst.train.errors import InputError

from .inputs import DISTINCT_FRAMES
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


def first_frames(video: str, height: int | None, count: int = DISTINCT_FRAMES) -> list:
    """The video's first frames exactly as the pipeline will see them (uint8 (1, H, W, 3))."""
    reader = VideoReader(video, height, audio=False)
    try:
        frames = []
        for item in reader:
            if isinstance(item, Frame):
                frames.append(item.pixels[None])
                if len(frames) == count:
                    break
    finally:
        reader.close()
    if not frames:
        raise InputError(f"{video}: no frame could be decoded")
    return frames


def bench_video(settings: VideoBench, backend: Backend) -> VideoResults:
    def stylize(frames) -> float:
        start = time.perf_counter()
        backend.collect(backend.submit(frames))
        return time.perf_counter() - start

    frames = first_frames(settings.video, settings.height)
    alone = time_frames(stylize, frames, settings.warmup, settings.frames)
    with tempfile.TemporaryDirectory(prefix="vst-bench-") as folder:
        job = VideoJob(settings.video, Path(folder) / "bench.mp4", height=settings.height,
                       max_frames=settings.max_frames)
        run = stylize_video(job, backend, progress=False)
    return VideoResults(settings, backend.name, alone, run)
