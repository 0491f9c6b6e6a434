"""Video in and out through PyAV: frames as uint8 (H, W, 3) RGB arrays with their
timestamps, and the audio stream's packets passed through untouched (OpenCV's writer would
drop them).

The reader yields video frames and audio packets in container order, so the writer can mux
them in the same order and the output interleaves like the input.
"""
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from vst.core.errors import InputError


@dataclass(frozen=True)
class VideoInfo:
    width: int               # of the frames the reader hands out (after --height scaling)
    height: int
    fps: Fraction            # average frame rate
    frames: int | None       # from the container header; None where it does not say
    duration: float | None   # seconds
    rotation: int            # display rotation, degrees counter-clockwise
    audio: str | None        # audio codec name, None without audio

    @property
    def expected_frames(self) -> int | None:
        """What the header promises: its frame count, else duration x fps."""
        if self.frames:
            return self.frames
        return round(self.duration * self.fps) if self.duration else None

    def is_truncated(self, decoded: int) -> bool:
        # headers round (an avi may announce 13 frames and hold 12): only a real shortfall counts
        expected = self.expected_frames
        return expected is not None and decoded + max(2, 0.02 * expected) < expected


@dataclass
class Frame:
    pixels: np.ndarray       # uint8 (H, W, 3) RGB
    pts: int | None
    time_base: Fraction


def open_source(source: str):
    """A file, a stream URL (rtsp://, http://...) or a camera (/dev/video0) as a container."""
    path = Path(source)
    if "://" not in source and not path.exists():
        raise InputError(f"{source}: no such file")
    if path.is_dir():
        raise InputError(f"{source}: is a folder, not a video")
    options = {"format": "v4l2"} if source.startswith("/dev/video") else {}
    try:
        container = av.open(source, **options)
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"{source}: not a readable video ({exc.__class__.__name__})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{source}: has no video stream")
    return container


class Timestamps:
    """Monotonic presentation timestamps from what decoders report. Containers without real
    pts (avi with B-frames) give scrambled ones; like FFmpeg's best-effort timestamp, trust
    pts or dts, whichever has gone backwards less often, and never let time go backwards."""

    def __init__(self):
        self.faulty_pts = self.faulty_dts = 0
        self.last_pts = self.last_dts = self.last = None

    def __call__(self, pts: int | None, dts: int | None) -> int | None:
        if dts is not None:
            self.faulty_dts += self.last_dts is not None and dts <= self.last_dts
            self.last_dts = dts
        if pts is not None:
            self.faulty_pts += self.last_pts is not None and pts <= self.last_pts
            self.last_pts = pts
        best = pts if pts is not None and (self.faulty_pts <= self.faulty_dts or dts is None) else dts
        if best is not None and self.last is not None and best <= self.last:
            best = self.last + 1
        self.last = best if best is not None else self.last
        return best


def display_rotation(path: str) -> int:
    """The display rotation of a video file. FFmpeg reports it on decoded frames only, and the
    writer needs it before its header, so a second handle decodes one frame at start-up."""
    if not Path(path).is_file():
        return 0  # cameras and streams cannot be opened twice; they carry no rotation anyway
    try:
        with av.open(path) as container:
            return next(container.decode(video=0)).rotation
    except (av.FFmpegError, StopIteration):
        return 0  # the main reader reports what is wrong with the file


class VideoReader:
    def __init__(self, source: str, height: int | None = None, audio: bool = True,
                 width: int | None = None):
        """Frames come out `height` high (default: the video's) and `width` wide (default:
        the video's aspect ratio, rounded to even)."""
        self.container = open_source(source)
        self.rotation = display_rotation(source)
        self.video = self.container.streams.video[0]
        self.video.thread_type = "AUTO"  # frame-threaded decoding
        self.audio = self.container.streams.audio[0] if audio and self.container.streams.audio else None
        natural, self.height = self.video.codec_context.width, self.video.codec_context.height
        if height:
            # even width, so 4:2:0 encoders take it
            natural, self.height = 2 * round(natural * height / self.height / 2), height
        self.width = width or natural
        self.decoded = 0
        self.error: str | None = None  # set when decoding stops early (truncated or corrupt)

    @property
    def info(self) -> VideoInfo:
        stream, container = self.video, self.container
        duration = (float(stream.duration * stream.time_base) if stream.duration
                    else container.duration / av.time_base if container.duration else None)
        return VideoInfo(self.width, self.height, stream.average_rate or stream.guessed_rate or Fraction(25),
                         stream.frames or None, duration, self.rotation,
                         self.audio.codec_context.name if self.audio else None)

    def __iter__(self) -> Iterator[Frame | av.Packet]:
        streams = [self.video] + ([self.audio] if self.audio else [])
        timestamps = Timestamps()
        try:
            for packet in self.container.demux(*streams):
                if packet.stream is self.audio:
                    if packet.dts is not None:  # the demuxer's flush packets carry nothing
                        yield packet
                    continue
                for frame in packet.decode():
                    self.decoded += 1
                    pixels = frame.to_ndarray(format="rgb24", width=self.width, height=self.height)
                    yield Frame(pixels, timestamps(frame.pts, frame.dts), frame.time_base)
        except av.FFmpegError as exc:
            self.error = str(exc).splitlines()[0]

    def close(self) -> None:
        self.container.close()


class VideoWriter:
    """Encodes frames with the given codec and copies the reader's audio packets."""

    def __init__(self, path: Path, container_format: str, info: VideoInfo, width: int,
                 codec: str, crf: int, preset: str, audio_stream=None):
        self.container = av.open(str(path), "w", format=container_format)
        try:
            self.video = self.container.add_stream(codec, rate=info.fps)
        except (av.FFmpegError, ValueError) as exc:
            self.container.close()
            raise InputError(f"codec {codec!r} is not available here ({exc})") from None
        # 4:2:0 needs even sizes; odd ones keep every pixel in 4:4:4 rather than lose a row
        even = width % 2 == 0 and info.height % 2 == 0
        self.video.width, self.video.height = width, info.height
        self.video.pix_fmt = "yuv420p" if even else "yuv444p"
        self.video.options = {"crf": str(crf), "preset": preset} if codec in ("libx264", "libx265") else {}
        if info.rotation:
            self.video.set_display_rotation(info.rotation)
        self.audio = self.container.add_stream_from_template(audio_stream) if audio_stream else None

    def write_frame(self, pixels: np.ndarray, source: Frame) -> None:
        """Encode uint8 (H, W, 3) RGB `pixels` at the timestamp of the `source` frame."""
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        # the input's timestamps, rescaled by the encoder: frame rate, VFR and duration survive
        frame.pts, frame.time_base = source.pts, source.time_base
        self.container.mux(self.video.encode(frame))

    def write_audio(self, packet: av.Packet) -> None:
        packet.stream = self.audio
        self.container.mux(packet)

    def close(self) -> None:
        try:
            self.container.mux(self.video.encode())  # flush delayed frames
        finally:
            self.container.close()

    def abandon(self) -> None:
        """Close without flushing, on an error or Ctrl-C; the caller deletes the file."""
        self.container.close()
