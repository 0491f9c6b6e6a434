"""Video in and out through PyAV: frames as uint8 (H, W, 3) RGB arrays with their
timestamps, and the packets of the streams carried beside them (audio, subtitles, a cover
picture: engine.side_streams; OpenCV's writer would drop them), with the file's labels
(engine.labels) and colour (core.colour).

The reader yields video frames and side-stream packets in container order; the writer holds
those packets back until the video has reached them, so that a run cut short (--max-frames)
ends its audio and subtitles where its video ends.
"""
import errno
import heapq
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from vst.core.colour import Colour, is_rgb, value_range
from vst.core.errors import InputError
from vst.core.frame_io import check_scaled_size
from vst.core.media import is_cover, open_container, picture_stream

from .labels import Labels
from .side_streams import SideTrack, add_side_tracks, describe, has_packets, side_streams

X26X_CODECS = ("libx264", "libx264rgb", "libx265")  # the encoders --preset is written for
CRF_CODECS = X26X_CODECS + ("libvpx-vp9",)           # those --crf is
DEFAULT_CRF = 18
# x265 leaves the DTS of an encode of fewer frames than its B-frame delay (3 at most) to
# whatever its heap held (x265 issue #781, fixed after the x265 that PyAV's wheels carry), and
# the MP4 muxer then refuses the packet; so few frames are never reordered, so a DTS equal to
# the PTS is the right one
X265_FEWEST_ORDERED = 3
LAST_PTS = 2 ** 63 - 1  # FFmpeg's timestamps are 64-bit
X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow", "placebo")


@dataclass(frozen=True)
class VideoInfo:
    width: int               # of the frames the reader hands out (after --height scaling)
    height: int
    fps: Fraction            # average frame rate
    frames: int | None       # from the container header; None where it does not say
    duration: float | None   # seconds
    rotation: int            # display rotation, degrees counter-clockwise
    time_base: Fraction      # of the frames' pts, which the encoder keeps
    colour: Colour           # the matrix the frames were decoded with, and the output's tags
    labels: Labels = field(default_factory=Labels)  # tags, chapters: carried into the output

    @property
    def expected_frames(self) -> int | None:
        """About as many frames as the header promises (a progress bar's total): its frame
        count, else duration x fps."""
        if self.frames:
            return self.frames
        return round(self.duration * self.fps) if self.duration else None


@dataclass(frozen=True)
class Segment:
    """The part of a video to stylize, in seconds from its first frame: [start, end), end
    None for the rest. Its output starts at 0: every stream is moved back to start there."""
    start: float = 0.0
    end: float | None = None

    def length(self, duration: float | None) -> float | None:
        """Its seconds in a video of `duration` seconds (None: unknown)."""
        last = min(filter(lambda x: x is not None, (self.end, duration)), default=None)
        return None if last is None else max(0.0, last - self.start)


@dataclass
class Frame:
    pixels: np.ndarray       # uint8 (H, W, 3) RGB
    pts: int | None
    time_base: Fraction


def tagged_duration(tag: str | None) -> float | None:
    """Seconds from a stream's DURATION tag ("00:00:02.000000000", as Matroska writes it per
    stream): where the track ends, in the file's time (from 0, not from its first frame)."""
    try:
        hours, minutes, seconds = (tag or "").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def has_timestamps(container) -> bool:
    return not container.format.flags & av.format.Flags.no_timestamps.value


def header_end(container, stream) -> Fraction | None:
    """Where the header says the video ends, in seconds of its own time (not from its first
    frame): its stream's start plus duration, else its Matroska DURATION tag (an end time),
    else the container's end; None where nothing says (a raw stream, a live one)."""
    if not has_timestamps(container):
        return None
    if stream.duration:
        return ((stream.start_time or 0) + stream.duration) * stream.time_base
    tagged = tagged_duration(stream.metadata.get("DURATION"))
    if tagged:
        return Fraction(tagged).limit_denominator(10 ** 9)
    if not container.duration:
        return None
    # Matroska's duration runs from 0; other containers' from their first packet
    start = 0 if container.format.name.startswith("matroska") else container.start_time or 0
    return Fraction(start + container.duration, av.time_base)


def video_duration(container, stream) -> float | None:
    """Seconds of a PyAV video stream, from its first frame to header_end (the container's
    end may span a longer audio track); None where nothing says, or where FFmpeg could only
    guess it from the bit rate: a raw stream (.h264, .m2v) has no times."""
    end = header_end(container, stream)
    if end is None:
        return None
    start = (stream.start_time * stream.time_base if stream.start_time is not None
             else Fraction(container.start_time or 0, av.time_base))
    return float(end - start)


def open_source(source: str):
    """A file, a stream URL (rtsp://, http://...) or a camera (/dev/video0) as a container."""
    path = Path(source)
    if "://" not in source and not path.exists():
        raise InputError(f"{source}: no such file")
    if path.is_dir():
        raise InputError(f"{source}: is a folder, not a video")
    options = {"format": "v4l2"} if source.startswith("/dev/video") else {}
    try:
        container = open_container(source, **options)
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"{source}: not a readable video ({exc.__class__.__name__})") from None
    try:
        picture_stream(container, source)
    except InputError:
        container.close()
        raise
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
        with open_container(path) as container:
            return next(container.decode(picture_stream(container, path))).rotation
    except (av.FFmpegError, StopIteration, InputError):
        return 0  # the main reader reports what is wrong with the file


class Deinterlacer:
    """FFmpeg's bwdif filter through PyAV's filter graph: one progressive frame for each frame
    (fields blended by motion; progressive frames pass untouched), each given the pts and dts
    it came in with. The filter holds a frame back to look ahead: flush() gives the rest."""
    FILTER = "mode=send_frame:parity=auto:deint=interlaced"

    def __init__(self, stream):
        self.graph = av.filter.Graph()
        source, bwdif, sink = (self.graph.add_buffer(template=stream), self.graph.add("bwdif", self.FILTER),
                               self.graph.add("buffersink"))
        source.link_to(bwdif)
        bwdif.link_to(sink)
        self.graph.configure()
        self.times: deque[tuple[int | None, int | None]] = deque()

    def push(self, frame: av.VideoFrame) -> list[tuple[av.VideoFrame, int | None, int | None]]:
        self.times.append((frame.pts, frame.dts))
        self.graph.push(frame)
        return self._pull()

    def flush(self) -> list[tuple[av.VideoFrame, int | None, int | None]]:
        self.graph.push(None)
        return self._pull()

    def _pull(self) -> list[tuple[av.VideoFrame, int | None, int | None]]:
        out = []
        while self.times:
            try:
                frame = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            out.append((frame, *self.times.popleft()))
        return out


class VideoReader:
    def __init__(self, source: str, height: int | None = None, audio: bool = True,
                 width: int | None = None, span: tuple[int, int | None] | None = None,
                 subtitles: bool = True, segment: Segment | None = None):
        """Frames come out `height` high as shown (default: the video's; a frame shown a
        quarter turned is that wide) and `width` wide (default: the video's aspect ratio,
        rounded to even); given both, frames are exactly `width` x `height` as stored.
        `span`: only the frames whose pts (in the video stream's time base) lie in
        [start, end), end None for the rest; start must be a keyframe's pts (engine.chunks
        plans them), and nothing else comes out: the chunk's join carries the rest. Without
        a span, the packets of every audio stream (unless `audio` is off), subtitle stream
        (unless `subtitles` is off), cover picture and telemetry track come out too; `side`
        lists those streams and the attachments. `segment`: only that part of every stream
        (and of the chapters), moved back to start at 0. `left_out` says what of the input
        the output will not hold: streams, and frames that change size."""
        self.container = open_source(source)
        self.span, self.segment = span, segment
        self.rotation = display_rotation(source)
        self.video = picture_stream(self.container, source)
        self.video.thread_type = "AUTO"  # frame-threaded decoding
        # a span is a chunk of the video alone: the join (engine.chunks) carries the rest and labels the whole
        self.side, self.left_out = ([], []) if span else side_streams(self.container, self.video, audio, subtitles)
        natural, self.height = self.video.codec_context.width, self.video.codec_context.height
        if height and self.rotation % 180 and not width:  # shown a quarter turned (a portrait clip):
            natural, self.height = height, 2 * round(self.height * height / natural / 2)  # `height` is its width
        elif height:
            # even width, so 4:2:0 encoders take it
            natural, self.height = 2 * round(natural * height / self.height / 2), height
        self.width = width or natural
        try:
            check_scaled_size(source, "frames", self.width, self.height)
        except InputError:
            self.container.close()
            raise
        # AVI stores no presentation times (packed B-frames scramble what decoders report) and
        # is constant-rate by design, and a raw stream (.h264, .m2v) has none at all: their
        # frames are numbered at the rate instead; a raw stream's rate is its codec's (the
        # demuxer states 25 for any)
        raw = not has_timestamps(self.container)
        self.constant_rate = self.container.format.name == "avi" or raw
        self.fps = ((self.video.codec_context.framerate if raw else None) or self.video.average_rate
                    or self.video.guessed_rate or Fraction(25))
        self.colour = Colour.of(self.video)
        # MPEG transport and program streams have no index: a seek lands near a byte offset,
        # often past the keyframe the part needs, and the times read after it are off
        self.seeks_exactly = self.container.format.name not in ("mpegts", "mpeg")
        self.time_base = 1 / self.fps if self.constant_rate else self.video.time_base
        self.decoded = 0
        self.first_pts = self.last_pts = self.last_duration = None  # of the frames read, in the input's time
        # the latest end (pts + duration) of a video packet read: the sample tables of MP4 give
        # a held last frame its length on the last packet in decoding order, which with
        # B-frames is not the last frame's (whose own duration says one frame period)
        self.packets_end: int | None = None
        self.error: str | None = None  # set when decoding stops early (truncated or corrupt)
        self.damaged: list[str] = []  # why each video packet that did not decode was skipped
        self.first_size: tuple[int, int] | None = None  # (width, height) of the first frame decoded
        self.resized = False  # whether a later frame's size differed (said once, in left_out)
        self.deinterlacer: Deinterlacer | None = None  # made at the first interlaced frame

    @property
    def info(self) -> VideoInfo:
        duration = video_duration(self.container, self.video)
        labels = Labels() if self.span else Labels.of(self.container, self.video)
        if self.segment:
            labels = labels.from_time(float(self._moved() * self.time_base))
            return VideoInfo(self.width, self.height, self.fps, None, self.segment.length(duration), self.rotation,
                             self.time_base, self.colour, labels)
        return VideoInfo(self.width, self.height, self.fps, self.video.frames or None, duration, self.rotation,
                         self.time_base, self.colour, labels)

    def _first_pts(self) -> int:
        """Where the video's frames start, in its time base (a constant-rate video's: in frames)."""
        start = self.video.start_time or 0
        return round(start * self.video.time_base * self.fps) if self.constant_rate else start

    def _bounds(self) -> tuple[int | None, int | None]:
        """The pts range [start, end) of the frames to read (None: open), by span or segment."""
        if self.span or not self.segment:
            return self.span or (None, None)
        first, end = self._first_pts(), self.segment.end
        return first + self._ticks(self.segment.start), None if end is None else first + self._ticks(end)

    def _ticks(self, seconds: float) -> int:
        """The first pts at or after `seconds`; a float's last bit (0.15 s is 1.4999... tenths)
        does not move it past a frame."""
        return math.ceil(Fraction(seconds) / self.time_base - Fraction(1, 10 ** 6))

    def _moved(self) -> int:
        """How far back (pts) a segment's streams are moved, so that its output starts at 0."""
        return self._bounds()[0] if self.segment and not self.span else 0

    def __iter__(self) -> Iterator[Frame | av.Packet]:
        streams = [self.video] + [stream for stream in self.side if has_packets(stream)]
        timestamps, first, read = Timestamps(), self._first_pts(), 0
        (start, end), moved = self._bounds(), self._moved()
        # a part of a constant-rate video (numbered frames) or of one that does not seek
        # exactly is read from the first frame, those before the part skipped
        seek = self.span is not None or (self.segment is not None and self.segment.start > 0
                                         and not self.constant_rate and self.seeks_exactly)
        if start is not None and start > LAST_PTS:
            return  # later than any time a container holds: no frame is there
        try:
            if seek:
                self._seek(start)
            for packet in self.container.demux(*streams):
                if packet.stream is not self.video:
                    if is_payload(packet) and (not moved or move_back(packet, moved * self.time_base)):
                        if end is not None and self.segment:
                            cut_at(packet, (end - moved) * self.time_base)
                        yield packet
                    continue
                if packet.pts is not None and packet.duration and not self.constant_rate:
                    self.packets_end = max(self.packets_end or 0, packet.pts + packet.duration)
                for frame, pts, dts in self._progressive(packet):
                    pts = first + read if self.constant_rate else timestamps(pts, dts)
                    read += 1
                    if pts is not None:  # an untimed frame (a raw stream's) is neither placed nor moved
                        if start is not None and pts < start:
                            continue  # before the span (the seek may land on an earlier keyframe)
                        if end is not None and pts >= end:
                            return  # decoders hand frames out in presentation order: the span is done
                        self.first_pts = pts if self.first_pts is None else self.first_pts
                        self.last_pts = pts
                        pts -= moved
                    self.decoded += 1
                    self._say_resized(frame, pts)
                    self.last_duration = 1 if self.constant_rate else frame.duration or None
                    pixels = frame.to_ndarray(format="rgb24", width=self.width, height=self.height,
                                              src_colorspace=self.colour.swscale_matrix)
                    yield Frame(pixels, pts, self.time_base)
        except av.FFmpegError as exc:
            self.error = _reason(exc)

    def _say_resized(self, frame: av.VideoFrame, pts: int | None) -> None:
        """A stream whose frames change size (a video call's recording, streams spliced
        together) is written at one size, as FFmpeg's command line writes it: said once."""
        if self.first_size is None:
            self.first_size = (frame.width, frame.height)
        elif (frame.width, frame.height) != self.first_size and not self.resized:
            self.resized = True
            when = "" if pts is None else f" at {float(pts * self.time_base):.2f} s"
            self.left_out.append(f"the frames change size{when} ({'x'.join(map(str, self.first_size))}, then "
                                 f"{frame.width}x{frame.height}): all are written at {self.width}x{self.height}")

    def _announced_end(self) -> tuple[Fraction, Fraction] | None:
        """(where the frames read should end, their mean spacing), both in seconds of the
        input's time: the header's end, or the part's or the chunk's where that comes first.
        None where nothing says, or nothing was read."""
        ends, bound = header_end(self.container, self.video), self._bounds()[1]
        if bound is not None:  # a part's or a chunk's end
            ends = bound * self.time_base if ends is None else min(ends, bound * self.time_base)
        if ends is None or self.first_pts is None:
            return None
        spacing = (Fraction(self.last_pts - self.first_pts, self.decoded - 1) if self.decoded > 1
                   else 1 / (self.fps * self.time_base))
        return ends, spacing * self.time_base

    def falls_short(self) -> tuple[float, float] | None:
        """(seconds its frames cover, seconds they should) where the frames read end well before
        the header's end (or the part's, or the chunk's): a truncated file. The last frame
        counts for its own length where the input says (its own, or the latest end of a
        packet), else the frames' mean spacing, so a video that starts late, pauses or holds
        its last frame is not taken for one."""
        announced = self._announced_end()
        if announced is None:
            return None
        ends, spacing = announced
        # a chunk counts from the video's first frame, so that the last chunk's figures are the whole video's
        start = (self._first_pts() if self.span else self.first_pts) * self.time_base
        reached = max(self.last_pts * self.time_base + (self.last_duration * self.time_base if self.last_duration
                                                         else spacing),
                      (self.packets_end or 0) * self.time_base)
        if reached >= ends - max(2 * spacing, Fraction(2, 100) * (ends - start)):
            return None
        return float(reached - start), float(ends - start)

    def last_frame_end(self) -> Fraction | None:
        """Where the last frame read ends, in seconds of the output's time, where the header
        (or the part) holds it longer than the frames' mean spacing: a slide show's last
        slide, a screen recording's last still. None where it does not, for a truncated
        input, and for numbered frames (AVI, raw streams: constant rate)."""
        announced = None if self.constant_rate else self._announced_end()
        if announced is None or self.falls_short():
            return None
        ends, spacing = announced
        if ends <= self.last_pts * self.time_base + 3 * spacing / 2:
            return None
        return ends - self._moved() * self.time_base

    def _seek(self, pts: int) -> None:
        """To the keyframe at or before `pts`. A chunk's must succeed; a segment of a source
        that cannot seek (a stream, a camera) is read from where it is, frames before it skipped."""
        try:
            self.container.seek(pts, stream=self.video)
        except av.FFmpegError:
            if self.span:
                raise

    def _progressive(self, packet: av.Packet) -> Iterator[tuple[av.VideoFrame, int | None, int | None]]:
        """The packet's frames with their pts and dts, deinterlaced from the first frame
        flagged interlaced on (stylizing combed fields would paint the combing); the
        stream's last, empty packet flushes the deinterlacer too."""
        try:
            frames = packet.decode()
        except av.InvalidDataError as exc:  # damaged data: decoding picks up again at the next packet that decodes
            if packet.size == 0:
                raise
            self.damaged.append(_reason(exc))
            frames = []
        for frame in frames:
            if self.deinterlacer is None and frame.interlaced_frame:
                self.deinterlacer = Deinterlacer(self.video)
            yield from self.deinterlacer.push(frame) if self.deinterlacer else [(frame, frame.pts, frame.dts)]
        if packet.size == 0 and self.deinterlacer is not None:
            yield from self.deinterlacer.flush()

    def close(self) -> None:
        self.container.close()


def video_pictures(source: str, height: int | None = None, width: int | None = None) -> Iterator[np.ndarray]:
    """A video's pictures alone, as uint8 (H, W, 3) RGB, decoded and scaled as vst-run does
    (VideoReader's height and width); InputError where decoding stops early."""
    reader = VideoReader(source, height, audio=False, width=width, subtitles=False)
    try:
        for item in reader:
            if isinstance(item, Frame):
                yield item.pixels
    finally:
        reader.close()
    if reader.error:
        raise InputError(f"{source}: decoding stopped after {reader.decoded} frames ({reader.error})")


class VideoWriter:
    """Encodes frames with the given codec at the reader's timestamps, and carries the
    reader's side streams (`side`: engine.side_streams) and labels. Every setting
    is checked as it opens, before any frame is made. With a `video_template` (a stream of
    encoded chunks, engine.chunks) it copies that stream's packets (write_packet) instead of
    encoding frames."""

    def __init__(self, path: Path, container_format: str, info: VideoInfo, width: int,
                 codec: str, crf: int, preset: str, side=(), video_template=None):
        self.video_template, self.last_dts = video_template, None
        # encoded packets kept from the muxer: the newest frame's and those after it in
        # decoding order, so that close can lengthen the last frame
        self.held: deque[av.Packet] = deque()
        self.newest_pts: int | None = None
        if video_template is None:
            check_video_encoder(codec, preset)
        # side-stream packets ahead of the video, by time: a muxer may store a subtitle well
        # before the audio of the same moment (seconds, arrival, track, packet)
        self.pending: list[tuple[float, int, SideTrack, av.Packet]] = []
        self.arrivals = itertools.count()
        self.video_end = 0.0   # seconds: where the last frame written ends
        self.written = 0       # frames
        self.first_frame_at: float | None = None  # seconds: the input time of the first frame written
        self.started: set[int] = set()  # side streams (their input index) whose first packet is written
        self.labels = info.labels
        try:
            self.container = av.open(str(path), "w", format=container_format)
        except av.FFmpegError as exc:  # the file itself: permissions, a folder of that name
            raise OSError(exc.errno, exc.strerror) from None
        try:
            self.video = self._video_stream(info, width, codec, crf, preset)
            self.labels.write(self.container, self.video)
            tracks, self.left_out = add_side_tracks(self.container, container_format, side)
            if info.rotation and self.numbered:
                self.left_out.append(f"the display rotation ({info.rotation} degrees) left out: avi holds none, "
                                     "so the video plays turned (write .mp4 to keep it)")
            self.tracks: dict[int, SideTrack] = {track.source.index: track for track in tracks}
            self._start(codec, container_format)
        except BaseException:
            self.abandon()
            raise

    def _start(self, codec: str, container_format: str) -> None:
        """Open the video encoder and write the header (the side streams' encoders are open
        already: engine.side_streams): an encoder that refuses its settings, and a container
        that refuses the encoder, each get their line."""
        try:
            if self.video_template is None:
                self.video.codec_context.open()
        except av.FFmpegError as exc:
            raise InputError(f"{codec} does not start with these settings ({exc.strerror})") from None
        try:
            self.container.start_encoding()
        except av.FFmpegError as exc:
            if _disk_error(exc):
                raise  # the job reports it as the file it could not write
            raise InputError(f"{container_format} files do not take {codec} video ({exc.strerror}); "
                             "choose another codec or container") from None

    @property
    def side_streams(self) -> str:
        """What became of the side streams, for the summary line (engine.side_streams.describe)."""
        return describe(list(self.tracks.values()))

    def _video_stream(self, info: VideoInfo, width: int, codec: str, crf: int, preset: str):
        self.frame_period = 1 / info.fps
        if self.video_template is not None:
            self.numbered = False
            video = self.container.add_stream_from_template(self.video_template)
            video.time_base = self.video_template.time_base
        else:
            video = self._encoder_stream(info, width, codec, crf, preset)
        if info.rotation:
            video.set_display_rotation(info.rotation)
        return video

    def _encoder_stream(self, info: VideoInfo, width: int, codec: str, crf: int, preset: str):
        try:
            video = self.container.add_stream(codec, rate=info.fps)
        except ValueError as exc:  # "'webm' format does not support 'libx264' codec"
            raise InputError(f"{exc}; choose another --codec or container") from None
        # the input's own time base, never 1/fps: frames of a variable-rate input that lie
        # closer than one frame period would otherwise round onto one timestamp. AVI has no
        # timestamps: its muxer takes the time base for the frame rate, so there frames are
        # numbered at 1/fps instead
        self.numbered = self.container.format.name == "avi"
        video.codec_context.time_base = video.time_base = 1 / info.fps if self.numbered else info.time_base
        video.width, video.height = width, info.height
        video.pix_fmt = pixel_format(codec, width, info.height)
        video.options = encoder_options(codec, crf, preset)
        colour = info.colour.written_as(video.pix_fmt)
        colour.tag(video.codec_context)
        # one for the whole video: VideoFrame.reformat makes a new swscale context per frame
        self.to_yuv = av.video.reformatter.VideoReformatter()
        self.yuv = {"format": video.pix_fmt, "dst_colorspace": colour.swscale_matrix,
                    "dst_color_range": value_range(video.pix_fmt)}
        return video

    def write_frame(self, pixels: np.ndarray, source: Frame) -> None:
        """Encode uint8 (H, W, 3) RGB `pixels` at the timestamp of the `source` frame."""
        frame = self.to_yuv.reformat(av.VideoFrame.from_ndarray(pixels, format="rgb24"), **self.yuv)
        if self.numbered:
            if self.first_frame_at is None and source.pts is not None:
                self.first_frame_at = float(source.pts * source.time_base)
            frame.pts, frame.time_base = self.written, self.video.time_base
        else:
            frame.pts, frame.time_base = source.pts, source.time_base
        self.newest_pts = frame.pts
        self._mux_video(self.video.encode(frame))
        self.written += 1
        if frame.pts is not None:
            self.video_end = float(frame.pts * frame.time_base + self.frame_period)
        self._write_side_until(self.video_end)

    def _mux_video(self, packets: list[av.Packet]) -> None:
        """Mux encoded packets in decoding order, all but the newest frame's and those after
        it: frames come in presentation order, so the last frame's packet is among the held."""
        self.held.extend(packets)
        while self.held and (self.numbered or self.held[0].pts != self.newest_pts):
            self.container.mux(self.held.popleft())

    def _lengthen_last_frame(self, end: Fraction) -> None:
        """Make the last frame last until `end` (seconds): a container takes a track's end
        from the packet of the latest frame (Matroska) or from the last packet in decoding
        order (MP4, MOV), and those are the first and the last held."""
        if self.numbered or not self.held or self.held[0].pts != self.newest_pts:
            return
        for packet in (self.held[0], self.held[-1]):
            packet.duration = max(packet.duration or 0, round(end / packet.time_base) - packet.pts)
        self.video_end = max(self.video_end, float(end))

    def write_packet(self, packet: av.Packet) -> None:
        """Copy an encoded packet of the video template's stream, at its own timestamps.
        Matroska stores no decoding times: its demuxer gives none for the packets that open
        each chunk, and FFmpeg cannot guess them across a join, so they follow the last one."""
        if packet.dts is None and self.last_dts is not None:
            packet.dts = self.last_dts + 1
        self.last_dts = packet.dts
        packet.stream = self.video
        self.container.mux(packet)
        self.written += 1
        if packet.pts is not None:
            self.video_end = max(self.video_end, float(packet.pts * packet.time_base + self.frame_period))
        self._write_side_until(self.video_end)

    def write_side(self, packet: av.Packet) -> None:
        """Queue a packet of one of the reader's side streams; it is written once the video
        reaches it. Packets of streams that are not carried are let go."""
        track, when = self.tracks.get(packet.stream.index), seconds(packet)
        # AVI holds no time before 0: its muxer would move every stream later for an audio
        # packet that starts there (an encoder's priming), leaving a hole after the first frame
        if track is not None and not (self.numbered and when < 0):
            heapq.heappush(self.pending, (when, next(self.arrivals), track, packet))

    def _write_side_until(self, end: float) -> None:
        while self.pending and self.pending[0][0] < end:
            when, _, track, packet = heapq.heappop(self.pending)
            if self.numbered and track.source.type == "audio" and track.source.index not in self.started:
                self._say_late(track, when)
            self.container.mux(track.packets(packet))

    def _say_late(self, track: SideTrack, when: float) -> None:
        """AVI holds no start time: an audio track that begins after the video plays from its
        first frame there. Said once per track, where it is over a frame late."""
        self.started.add(track.source.index)
        late = when - (self.first_frame_at or 0.0)
        if late > self.frame_period:
            self.left_out.append(f"the start of audio stream {track.source.index} left out: it begins {late:.2f} s "
                                 "after the video, and avi holds no start time, so it plays that much early "
                                 "(write .mp4 or .mkv to keep it)")

    def close(self, cut_side: bool = False, last_frame_end: Fraction | None = None) -> None:
        """Flush and finish the file. cut_side: drop the side streams after the last frame (a
        run stopped early), else keep all of them, as the input has them. last_frame_end:
        seconds where the last frame ends (engine.video_io.VideoReader.last_frame_end), where
        the input holds it longer than the others."""
        try:
            if self.video_template is None:
                delayed = self.video.encode()  # flush
                if self.video.codec_context.name == "libx265" and self.written < X265_FEWEST_ORDERED:
                    for packet in delayed:
                        packet.dts = packet.pts
                self._mux_video(delayed)
                if last_frame_end is not None:
                    self._lengthen_last_frame(last_frame_end)
            self._write_side_until(self.video_end if cut_side else float("inf"))
            if self.video_template is None:
                self.container.mux(list(self.held))
            for track in self.tracks.values():
                self.container.mux(track.flush())
            # set last, as the trailer writes them (every muxer here does): cut to where the video ended
            chapters = self.labels.chapters_until(self.video_end if cut_side else None)
            if chapters:
                self.container.set_chapters(chapters)
        finally:
            self.container.close()

    def abandon(self) -> None:
        """Close without flushing, on an error or Ctrl-C; the caller deletes the file. A full
        disk fails this close too, and that must not hide the first error."""
        try:
            self.container.close()
        except (av.FFmpegError, OSError):
            pass


def pixel_format(codec: str, width: int, height: int) -> str:
    """The encoder's own format, the first it lists (yuv420p for x264, yuvj420p for MJPEG,
    rgb24 for PNG, 10-bit 4:2:2 for ProRes); for odd sizes, which subsampled chroma cannot
    hold without losing a row or column, the first it lists with every pixel's colour (4:4:4
    or RGB: yuv444p for x264, yuvj444p for MJPEG, 10-bit 4:4:4 for ProRes)."""
    listed = [f.name for f in av.Codec(codec, "w").video_formats or ()] or ["yuv420p", "yuv444p"]
    if width % 2 or height % 2:
        return next((name for name in listed if "444" in name or is_rgb(name)), listed[0])
    return listed[0]


def encoder_options(codec: str, crf: int, preset: str) -> dict[str, str]:
    """--crf and --preset in the encoder's own terms: constant quality for x264, x265 and VP9
    (VP9 at its 'good' speed with row threading, ~10x faster than its default)."""
    if codec == "libx265":  # x265 writes its own statistics on stderr as it closes, unless told not to
        return {"crf": str(crf), "preset": preset, "x265-params": "log-level=error"}
    if codec in X26X_CODECS:
        return {"crf": str(crf), "preset": preset}
    if codec == "libvpx-vp9":
        return {"crf": str(crf), "b": "0", "row-mt": "1", "cpu-used": "4"}
    if codec == "dnxhd":  # DNxHD proper takes a few sizes and bit rates only; DNxHR any size
        return {"profile": "dnxhr_hq"}
    return {}


def encoder_name(codec: str) -> str:
    """The encoder FFmpeg runs for `codec`, as it names it: libx264 for h264, libx265 for
    hevc, libvpx-vp9 for vp9; an unknown name as given (check_video_encoder refuses it)."""
    try:
        return av.Codec(codec, "w").name
    except (av.FFmpegError, ValueError):
        return codec


def check_video_encoder(codec: str, preset: str) -> None:
    """Refuse a --codec that is no video encoder here, or a --preset x264/x265 do not know."""
    try:
        kind = av.Codec(codec, "w").type
    except (av.FFmpegError, ValueError):
        raise InputError(f"codec {codec!r} is not available here") from None
    if kind != "video":
        raise InputError(f"codec {codec!r} is an {kind} encoder; the codec must be a video encoder "
                         "(libx264, libx265, libvpx-vp9, h264_nvenc...)")
    if codec in X26X_CODECS and preset not in X26X_PRESETS:
        raise InputError(f"preset {preset!r}: {codec} presets are {', '.join(X26X_PRESETS)}")


def check_quality_settings(codec: str, crf: int | None, preset: str) -> None:
    """Refuse a crf or a preset (other than auto) given for an encoder that has no such
    setting: it would be ignored without a word (an encoder FFmpeg lacks is check_video_encoder's)."""
    if codec not in av.codecs_available:
        return
    if crf is not None and codec not in CRF_CODECS:
        raise InputError(f"crf is a setting of {', '.join(CRF_CODECS)}, not of {codec}")
    if preset != "auto" and codec not in X26X_CODECS:
        raise InputError(f"preset is a setting of {', '.join(X26X_CODECS)}, not of {codec}")


def is_payload(packet: av.Packet) -> bool:
    """Whether a side stream's packet is one to write: not the empty one a demuxer ends each
    stream with, nor an untimed one, except a cover picture's (one packet, no time)."""
    return packet.size > 0 and (packet.pts is not None or packet.dts is not None or is_cover(packet.stream))


def move_back(packet: av.Packet, by: Fraction) -> bool:
    """Move a side packet `by` seconds earlier, or False where it plays before then (a
    cover picture, untimed, stays); a subtitle still shown then is shown from 0 for what is
    left of it."""
    when = plays_at(packet)
    if when is None:
        return True
    offset = round(by / packet.time_base)
    if when < offset:
        if packet.stream.type != "subtitle" or when + packet.duration <= offset:
            return False
        packet.duration, when = when + packet.duration - offset, offset
        packet.pts = None if packet.pts is None else when
        packet.dts = None if packet.dts is None else when
    packet.pts = None if packet.pts is None else packet.pts - offset
    packet.dts = None if packet.dts is None else packet.dts - offset
    return True


def cut_at(packet: av.Packet, end: Fraction) -> None:
    """Shorten a subtitle shown past `end` seconds (a part's end) to end there."""
    when = plays_at(packet)
    if packet.stream.type == "subtitle" and when is not None and packet.duration:
        packet.duration = max(0, min(packet.duration, round(end / packet.time_base) - when))


def plays_at(packet: av.Packet) -> int | None:
    """When a packet plays, in its time base: its pts, else its dts; None for neither."""
    return packet.pts if packet.pts is not None else packet.dts


def seconds(packet: av.Packet) -> float:
    """When a packet plays, in seconds; a cover picture (untimed) at 0."""
    when = plays_at(packet)
    return 0.0 if when is None else float(when * packet.time_base)


def _reason(exc: av.FFmpegError) -> str:
    """FFmpeg's words for why it stopped, without the file's name, which the line starts with."""
    return exc.strerror or str(exc).splitlines()[0]


def _disk_error(exc: av.FFmpegError) -> bool:
    """A write the file system refused (full, quota, file-size limit, permissions; a folder
    gone since require_writable_folder checked it), not a setting. EPERM is not among them: FFmpeg gives it for
    an encoder that cannot open (no GPU for nvenc)."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EROFS, errno.ENOENT,
                         errno.EIO)
