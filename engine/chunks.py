"""A long video cut at keyframes into Chunks that workers stylize apart, and the encoded
chunks joined back by stream copy into the file one worker would write.

The network works frame by frame, so a chunk border cannot change a frame: each chunk
decodes from its keyframe, keeps the frames whose timestamps lie in its span, and encodes
them at those timestamps. The join copies the chunks' packets in order, and carries the
input's other streams and labels as one worker does (held until the video reaches them, cut
at --max-frames).

Chunking needs timestamps: an AVI input or output (numbered frames, engine.video_io), a
stream or a camera is never chunked.
"""
import os
import shutil
from bisect import bisect_left
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av

from vst.core.files import temporary_sibling
from vst.core.media import picture_stream

from .job import CONTAINERS, VideoSettings
from .side_streams import has_packets
from .video_io import VideoReader, VideoWriter, has_timestamps, is_payload, open_source, seconds

@dataclass(frozen=True)
class Chunk:
    """Frames [start, end) of one video, as pts in its video stream's time base; start is a
    keyframe's pts, end the next chunk's start (None: to the end of the video)."""
    index: int
    start: int
    end: int | None
    frames: int


@dataclass(frozen=True)
class FrameTimes:
    """Every frame's pts in presentation order, and the keyframes', from the packets alone
    (nothing decoded): what chunk planning needs."""
    pts: list[int]
    keyframes: list[int]
    time_base: Fraction
    numbered: bool           # AVI, a raw stream: frames numbered at the rate, no timestamps to cut by

    @classmethod
    def scan(cls, source: str) -> "FrameTimes":
        with open_source(source) as container:
            stream = picture_stream(container, source)
            pts, keys = [], []
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue  # the demuxer's flush packet
                pts.append(packet.pts)
                if packet.is_keyframe:
                    keys.append(packet.pts)
            return cls(sorted(pts), sorted(keys), stream.time_base,
                       container.format.name == "avi" or not has_timestamps(container))


def can_chunk(source: str, out: Path) -> bool:
    """A file (not a stream or camera) into a container with timestamps; plan_chunks checks
    the input's own container."""
    return Path(source).is_file() and out.suffix.lower() != ".avi"


def plan_chunks(source: str, seconds: float, max_frames: int | None = None) -> list[Chunk]:
    """The video cut at the first keyframe `seconds` or more after each cut, covering its
    first `max_frames` frames; one chunk where it has too few keyframes."""
    times = FrameTimes.scan(source)
    frames = times.pts[:max_frames] if max_frames else times.pts
    if not frames or times.numbered:
        return []
    last = times.pts[len(frames)] if len(frames) < len(times.pts) else None
    step = seconds / times.time_base
    starts = [frames[0]]
    for key in times.keyframes:
        if key - starts[-1] >= step and key <= frames[-1]:
            starts.append(key)
    ends = starts[1:] + [last]
    def count(start: int, end: int | None) -> int:
        return (len(frames) if end is None else bisect_left(frames, end)) - bisect_left(frames, start)

    return [Chunk(index, start, end, count(start, end)) for index, (start, end) in enumerate(zip(starts, ends))]


def chunk_settings(settings: VideoSettings) -> VideoSettings:
    """How a chunk is written: as the whole video, with no frame limit (the chunk's span has
    it); its reader leaves the audio, subtitles and labels to the join."""
    return replace(settings, max_frames=None)


def part_name(chunk: Chunk, out: Path) -> str:
    """A chunk's file, in the output's container so the encoder writes the same headers."""
    return f"chunk{chunk.index:05d}{out.suffix.lower()}"


class Joined(NamedTuple):
    frames: int
    side_streams: str            # what became of the other streams (side_streams.describe)
    left_out: tuple[str, ...]    # one line per input stream not in the output, and why


def join_chunks(source: str, parts: list[Path], out: Path, settings: VideoSettings,
                cut_side: bool) -> "Joined":
    """Copy the encoded chunks `parts`, in order, into `out` with the input's other streams
    (as settings say) and labels, cut where the video ends if `cut_side`. Written to a
    temporary renamed on success."""
    reader = VideoReader(source, settings.height, audio=settings.audio, subtitles=settings.subtitles)
    side = _side_packets(source, [stream.index for stream in reader.side if has_packets(stream)])
    temporary, writer = temporary_sibling(out), None
    try:
        with av.open(str(parts[0])) as first:
            template = first.streams.video[0]
            writer = VideoWriter(temporary, CONTAINERS[out.suffix.lower()], reader.info,
                                 template.codec_context.width, "copy", 0, "", reader.side,
                                 video_template=template)
        pending = next(side, None)
        for part in parts:
            with av.open(str(part)) as chunk:
                for packet in chunk.demux(chunk.streams.video[0]):
                    if packet.pts is None:
                        continue
                    # side streams up to a second ahead of the video, as an interleaving muxer wants them
                    while pending is not None and seconds(pending) < writer.video_end + 1:
                        writer.write_side(pending)
                        pending = next(side, None)
                    writer.write_packet(packet)
        while pending is not None:
            writer.write_side(pending)
            pending = next(side, None)
        joined = Joined(writer.written, writer.side_streams, tuple(reader.left_out + writer.left_out))
        writer.close(cut_side=cut_side)
        writer = None
        os.replace(temporary, out)
        return joined
    finally:
        if writer is not None:
            writer.abandon()
        temporary.unlink(missing_ok=True)
        side.close()
        reader.close()


def _side_packets(source: str, indices: list[int]):
    """The packets of the streams numbered `indices` of `source`, in container order, from
    a handle of their own."""
    if not indices:
        return
    with open_source(source) as container:
        for packet in container.demux(*(container.streams[index] for index in indices)):
            if is_payload(packet):
                yield packet


def remove_parts(folder: Path) -> None:
    """The chunk folder and what is in it, whatever state a stopped run left it in."""
    shutil.rmtree(folder, ignore_errors=True)
