"""End to end: a real video through vst-run's pipeline, beside the same backend timed on
the same frames alone. Efficiency = end-to-end fps / stylize-only fps; 1.0 means decoding
and encoding hide completely behind the stylizer. Also what the encoder wrote (bit rate) and
the process's peak resident memory."""
import resource
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vst.engine.runner import Runner
from vst.engine.job import JobResult, VideoJob, VideoSettings, stylize_video
from vst.engine.video_io import DEFAULT_CRF

from .inputs import first_frames
from .timing import Stats


@dataclass(frozen=True)
class VideoBench:
    video: str
    height: int | None = None       # scale as vst-run --height does
    max_frames: int | None = None
    frames: int = 5                 # stylize-only timed frames (vst-bench: 5 on CPU, 50 with a GPU)
    warmup: int = 2
    crf: int = DEFAULT_CRF          # x264's, as vst-run --crf and --preset
    preset: str = VideoSettings.preset


@dataclass
class VideoResults:
    settings: VideoBench
    backend: str
    stylize_only: Stats
    run: JobResult
    video_bytes: int                # the output's size
    peak_rss_bytes: int             # this process's, from its start to the end of the run

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
                "efficiency": self.efficiency, "crf": self.settings.crf, "preset": self.settings.preset,
                "encoder": self.run.encoder,
                "video_mbit_per_s": 8e-6 * self.video_bytes * info.fps / times.frames,
                "peak_rss_bytes": self.peak_rss_bytes}


def time_in_flight(runner: Runner, frames: list[np.ndarray], warmup: int, count: int) -> Stats:
    """The runner's video path alone: frames submitted `runner.depth` ahead as the pipeline
    submits them; each figure is the time per frame over `runner.depth` consecutive outputs,
    in the steady state (before the last frames drain). Over one output alone it would not
    be a frame's time: frames in flight in as many streams come out in bursts (0.6 ms, then
    70 ms, at 720p on two cores), and the median of such times lands anywhere between the two."""
    depth, pending, outputs = runner.depth, deque(), []
    for i in range(warmup + count + 2 * depth):  # count figures, each over depth outputs
        if len(pending) == depth:
            runner.collect(pending.popleft())
            outputs.append(time.perf_counter())
        pending.append(runner.submit(frames[i % len(frames)]))
    while pending:
        runner.collect(pending.popleft())
    steady = np.array(outputs[warmup:])
    return Stats.of(list((steady[depth:] - steady[:-depth]) / depth))


def bench_video(settings: VideoBench, runner: Runner) -> VideoResults:
    stylize_only = time_in_flight(runner, first_frames(settings.video, settings.height), settings.warmup,
                                  settings.frames)
    with tempfile.TemporaryDirectory(prefix="vst-bench-") as folder:
        job = VideoJob(settings.video, Path(folder) / "bench.mp4",
                       VideoSettings(crf=settings.crf, preset=settings.preset, height=settings.height,
                                     max_frames=settings.max_frames, audio=False))
        run = stylize_video(job, runner, progress=False)
        video_bytes = job.out.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return VideoResults(settings, runner.name, stylize_only, run, video_bytes, peak)
