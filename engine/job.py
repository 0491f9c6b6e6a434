"""One video through a runner into a new file: what `vst-run` does, and what `vst-bench
--video` times."""
import os
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable

import av
import numpy as np

from vst.core.command import require_writable_folder
from vst.core.errors import CommandError, InputError, check_flag, check_number, check_whole
from vst.core.files import temporary_sibling

from .runner import Runner
from .pipeline import StageTimes, queue_frames, run_pipeline
from .video_io import (DEFAULT_CRF, X26X_CODECS, Segment, VideoInfo, VideoReader, VideoWriter,
                       check_quality_settings, encoder_name, video_duration)

CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov", ".webm": "webm", ".avi": "avi"}
AUTO_CODECS = {".webm": "libvpx-vp9"}   # --codec auto by output suffix; libx264 elsewhere


@dataclass(frozen=True)
class VideoSettings:
    """How vst-run writes a video (its options of the same names)."""
    codec: str = "auto"              # auto: AUTO_CODECS by the output's suffix
    crf: int | None = None           # None: DEFAULT_CRF where the encoder takes a crf
    preset: str = "auto"             # auto: encoder_preset's choice
    height: int | None = None        # scale frames to this height before stylizing
    max_frames: int | None = None
    side_by_side: bool = False       # write input | output
    audio: bool = True               # carry the input's audio streams
    subtitles: bool = True           # carry the input's subtitle streams
    start: float = 0.0               # seconds into a video where its output begins
    end: float | None = None         # seconds into a video where its output ends; None: its end

    def __post_init__(self):  # vst-run's option types check these; vst.stylize passes them on as given
        for name in ("side_by_side", "audio", "subtitles"):
            check_flag(name, getattr(self, name))
        if self.crf is not None:
            check_whole("crf", self.crf, 0, 51)
        for name, low in (("height", 8), ("max_frames", 1)):
            if getattr(self, name) is not None:
                check_whole(name, getattr(self, name), low)
        check_number("start", self.start, 0)
        if self.end is not None:
            check_number("end", self.end, 0)
            if self.end <= self.start:
                raise ValueError(f"end ({self.end:g} s) must come after start ({self.start:g} s)")

    @property
    def segment(self) -> Segment | None:
        """The part of each video to stylize; None: all of it."""
        return Segment(self.start, self.end) if self.start or self.end is not None else None


@dataclass(frozen=True)
class VideoJob:
    video: str                       # a file, a stream URL or a camera (/dev/video0)
    out: Path
    settings: VideoSettings = VideoSettings()
    span: tuple[int, int | None] | None = None  # a chunk's pts range (engine.chunks); None: all


@dataclass
class JobResult:
    out: Path
    info: VideoInfo                  # of the input, after scaling (side by side and turned: twice as high)
    width: int                       # of the written frames
    times: StageTimes
    decode_error: str | None         # why decoding stopped early, if it did
    side_streams: str = ""           # what became of the other streams (side_streams.describe)
    left_out: tuple[str, ...] = ()   # one line per input stream not in the output, and why
    deinterlaced: bool = False       # interlaced input, deinterlaced (bwdif) before stylizing
    encoder: str = ""                # the video encoder and its preset, e.g. "libx264 ultrafast"
    short: tuple[float, float] | None = None  # a truncated input: (seconds its frames cover, seconds announced)
    damaged: tuple[str, ...] = ()    # why each damaged video packet, skipped, did not decode


def encoder_preset(preset: str, runner: Runner) -> str:
    """--preset auto: x264's "ultrafast" where the stylizer runs on the CPU, whose cores the
    encoder shares (a quarter of "medium"'s CPU time on stylized 720p; at one CRF, more PSNR
    in 1.8x the bytes: docs/engine.md), "medium" where it runs on a GPU."""
    if preset != "auto":
        return preset
    return "medium" if runner.on_gpu else "ultrafast"


def input_beside_output(source: np.ndarray, stylized: np.ndarray, turns: int = 0) -> np.ndarray:
    """uint8 (H, W, C) `source` | `stylized`, side by side as shown: of a video shown turned
    `turns` quarters counter-clockwise (its display rotation), the frame that, so turned,
    shows them side by side (a portrait clip's two halves stacked in its frames)."""
    shown = np.concatenate([np.rot90(source, turns), np.rot90(stylized, turns)], axis=1)
    return np.ascontiguousarray(np.rot90(shown, -turns)) if turns % 4 else shown


def stylize_video(job: VideoJob, runner: Runner, progress: bool = True,
                  on_frame: Callable[[], None] | None = None) -> JobResult:
    """Decode -> stylize -> encode into a temporary file renamed to the output on success;
    on any error or Ctrl-C nothing is left behind. on_frame, if given, is called after each
    frame in place of a progress bar."""
    from tqdm import tqdm

    settings, out = job.settings, job.out
    reader = VideoReader(job.video, settings.height, audio=settings.audio, span=job.span,
                         subtitles=settings.subtitles, segment=None if job.span else settings.segment)
    try:
        require_writable_folder(out)
        if out.suffix.lower() not in CONTAINERS:
            raise InputError(f"{out}: unknown container; use one of {' '.join(CONTAINERS)}")
        info = reader.info
        turns = round(info.rotation / 90)
        if settings.side_by_side and turns % 2:  # input | output as shown: its frames twice as high
            info = replace(info, height=2 * info.height)
        width = info.width * (2 if settings.side_by_side and not turns % 2 else 1)
        temporary, writer = temporary_sibling(out), None
        try:
            suffix = out.suffix.lower()
            codec = encoder_name(AUTO_CODECS.get(suffix, "libx264") if settings.codec == "auto" else settings.codec)
            check_quality_settings(codec, settings.crf, settings.preset)
            preset = encoder_preset(settings.preset, runner)
            crf = DEFAULT_CRF if settings.crf is None else settings.crf
            writer = VideoWriter(temporary, CONTAINERS[suffix], info, width, codec, crf, preset, reader.side)
            total = min(filter(None, (info.expected_frames, settings.max_frames)), default=None)
            with tqdm(total=total, unit="frame", desc=runner.name, dynamic_ncols=True,
                      disable=not progress or on_frame is not None) as bar:
                times = run_pipeline(reader, runner.submit, writer.write_frame, writer.write_side,
                                     runner.collect, runner.depth,
                                     partial(input_beside_output, turns=turns) if settings.side_by_side else None,
                                     settings.max_frames, on_frame or bar.update, queue_frames(width, info.height))
                if bar.total != bar.n:  # the header's count was off: the bar ends at what came
                    bar.total = bar.n
                    bar.refresh()
            stopped = settings.max_frames is not None and times.frames >= settings.max_frames
            short = None if stopped else reader.falls_short()  # while the input is open: it reads its header
            writer.close(cut_side=stopped or (settings.end is not None and not job.span),
                         last_frame_end=None if stopped else reader.last_frame_end())
            side, left_out = writer.side_streams, tuple(reader.left_out + writer.left_out)
            writer = None
            if times.frames == 0 and reader.segment and not reader.error:
                length = video_duration(reader.container, reader.video)
                part = (f"from {settings.start:g} s on" if settings.end is None
                        else f"from {settings.start:g} s to {settings.end:g} s")
                raise InputError(f"{job.video}: no frame starts {part}"
                                 + ("" if length is None else f" (the video is {length:.2f} s long)"))
            if times.frames == 0:
                why = reader.error or next(iter(reader.damaged), None)
                raise InputError(f"{job.video}: no frame could be decoded" + (f" ({why})" if why else ""))
            os.replace(temporary, out)
        except OSError as exc:  # a full disk, a file-size limit, a vanished folder
            raise CommandError(f"{out}: cannot write ({exc.strerror or exc}); nothing written") from None
        except av.FFmpegError as exc:  # a packet the muxer refuses
            raise CommandError(f"{out}: FFmpeg cannot write it ({exc.strerror}); nothing written") from None
        finally:
            if writer is not None:
                writer.abandon()
            temporary.unlink(missing_ok=True)
    finally:
        reader.close()
    encoder = f"{codec} {preset}" if codec in X26X_CODECS else codec
    return JobResult(out, info, width, times, reader.error, side, left_out, reader.deinterlacer is not None,
                     encoder, short, tuple(reader.damaged))
