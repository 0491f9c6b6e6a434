"""The input's audio, subtitle and attachment streams, its cover picture and a GoPro's
telemetry, carried into the output beside the stylized video ("side streams"): copied where
the output's container holds them; where it does not, audio re-encoded (AAC; Opus in WebM) at
the input's timing and text subtitles converted to the container's own kind, and a stream
that cannot go in left out with a note that says why. Attachments (the fonts of styled
subtitles) have no packets: Matroska takes them whole, and a cover picture the same way.

Re-encoded audio keeps its place in time: every decoded frame gets its presentation time in
samples, so the encoder can mark its priming samples (AAC's 1024, Opus's 312) as delay, which
MP4/MOV record in an edit list and Matroska/WebM as the codec delay; without it the audio
would play those samples late.
"""
import io
from dataclasses import dataclass
from fractions import Fraction

import av

from vst.core.media import is_cover, open_container

from .labels import StreamLabels

REENCODE_AUDIO = {"webm": ("libopus", 48000)}  # container -> (encoder, rate); elsewhere AAC at the input's rate
# text subtitles (SRT, ASS, WebVTT...) are converted where the container takes only its own kind
TEXT_SUBTITLES = {"mp4": "mov_text", "mov": "mov_text", "webm": "webvtt", "matroska": "ass"}
# codecs a container takes but its players do not play (PCM in MP4: browsers play none of it, and
# FFmpeg refused a stereo track whose channel order goes unsaid at its last packet, once the whole
# video was written)
UNPLAYED = {"mp4": ("vorbis", "pcm_")}
CARRIED = ("audio", "subtitle", "attachment")
# FFmpeg's MP4/MOV muxer writes every data track as GoPro's 'gpmd' (GPS, accelerometer and
# gyro samples): a copy of that track is true to it, of any other data track it would not be
TELEMETRY_HANDLER, TELEMETRY_CONTAINERS = "GoPro MET", ("mp4", "mov")
SUGGESTED = (("matroska", ".mkv"), ("mp4", ".mp4"))  # containers to suggest for a stream left out


def side_streams(container, picture, audio: bool = True, subtitles: bool = True) -> tuple[list, list[str]]:
    """The input container's streams to carry beside its stylized video stream `picture`
    (audio unless `audio` is off, subtitles and attachments unless `subtitles` is off, cover
    pictures, telemetry), in the container's order, and a note for each other stream that
    will not be in the output (other data; a second video stream)."""
    wanted = {"audio": audio, "subtitle": subtitles, "attachment": subtitles}
    carried, left_out = [], []
    for stream in container.streams:
        if stream is picture:
            continue
        if wanted.get(stream.type) or is_cover(stream) or is_telemetry(stream):
            carried.append(stream)
        elif stream.type not in CARRIED and not holds_labels(stream, picture):
            left_out.append(f"{_name(stream)} left out: vst-run carries one video stream, audio, subtitles, "
                            "attachments, cover pictures and GoPro telemetry")
    return carried, left_out


def as_attachment(stream, container_format: str) -> bool:
    """Whether `stream` goes into a container of this format as an attachment: a cover
    picture into Matroska, which keeps pictures so (and FFmpeg reads them back as covers)."""
    return is_cover(stream) and container_format == "matroska"


def is_telemetry(stream) -> bool:
    """A GoPro's GPMF track (its handler name, as cameras and FFmpeg write it, says so)."""
    return stream.type == "data" and stream.metadata.get("handler_name", "").strip() == TELEMETRY_HANDLER


def is_text_subtitle(stream) -> bool:
    return stream.type == "subtitle" and stream.codec_context is not None and stream.codec_context.codec.text_sub


def holds_labels(stream, picture) -> bool:
    """Whether `stream` is a track of what engine.labels carries: MP4's and MOV's chapter
    track, which FFmpeg reads into the container's chapters and then marks to be discarded,
    or a camera's timecode track, whose start FFmpeg also puts in the video stream's tags
    (from which MP4 and MOV write the track again; Matroska keeps the tag)."""
    if stream.type != "data":
        return False
    chapters = stream.discard == av.stream.Discard.all and bool(stream.container.chapters())
    timecode = stream.metadata.get("timecode")
    return chapters or (timecode is not None and timecode == picture.metadata.get("timecode"))


def has_packets(stream) -> bool:
    return stream.type != "attachment"


def refusal(container_format: str, source) -> str | None:
    """Why a container of this format cannot hold a copy of the stream `source`, or None
    where it can. Tried on an empty file in memory: a muxer may list a codec it then refuses
    as it writes its header (Opus in MOV)."""
    if source.type == "attachment":
        return None if container_format == "matroska" else f"{container_format} holds no attachments"
    codec = _codec(source)
    if as_attachment(source, container_format):
        return None
    if is_cover(source) and container_format != "mp4":  # FFmpeg's MOV muxer drops it unsaid
        return f"{container_format} holds no cover pictures"
    if is_telemetry(source) and container_format not in TELEMETRY_CONTAINERS:  # an AVI would not read back
        return f"{container_format} holds no GoPro telemetry"
    if codec.startswith(UNPLAYED.get(container_format, ())):
        return f"{container_format} players do not play {codec}"
    try:
        with av.open(io.BytesIO(), "w", format=container_format) as probe:
            probe.add_stream_from_template(source)
            probe.start_encoding()
    except (av.FFmpegError, ValueError):
        return f"{container_format} cannot hold {codec}"
    return None


@dataclass
class SideTrack:
    """One input side stream in the output: copied, or re-encoded (audio; text subtitles)."""
    source: object                 # the input's stream
    stream: object                 # the output's stream
    encoded_from: str | None       # the input's codec, where re-encoded; None: copied
    why: str | None = None         # why it was re-encoded
    next_pts: int | None = None    # re-encoding audio: where the next frame starts, in input samples

    def packets(self, packet: av.Packet) -> list[av.Packet]:
        """What to mux for the input's `packet`: itself, or its content re-encoded."""
        if self.stream is None:
            return []  # a cover picture that went in as an attachment
        if self.encoded_from is None:
            packet.stream = self.stream
            return [packet]
        if self.source.type == "subtitle":
            return self._subtitle(packet)
        out = []
        for frame in packet.decode():
            if self.next_pts is None:  # anchored once, then counted: container times jitter
                start = frame.pts * frame.time_base if frame.pts is not None else 0
                self.next_pts = round(start * frame.sample_rate)
            frame.pts, frame.time_base = self.next_pts, Fraction(1, frame.sample_rate)
            self.next_pts += frame.samples
            out += self.stream.encode(frame)
        return out

    def _subtitle(self, packet: av.Packet) -> list[av.Packet]:
        """A text subtitle in the output's format, shown when and as long as the input's."""
        subtitles = self.source.codec_context.decode2(packet)
        if subtitles is None:
            return []
        converted = self.stream.codec_context.encode_subtitle(subtitles)
        # a packet without a duration: the cue's own display time, in ms
        shown = packet.duration or round(subtitles.end_display_time / 1000 / packet.time_base)
        converted.pts, converted.dts, converted.duration = packet.pts, packet.dts, shown
        converted.time_base, converted.stream = packet.time_base, self.stream
        return [converted]

    def flush(self) -> list[av.Packet]:
        audio = self.encoded_from is not None and self.source.type == "audio"
        return self.stream.encode() if audio else []


def add_side_tracks(container, container_format: str, sources) -> tuple[list[SideTrack], list[str]]:
    """Output streams in `container` for the input streams `sources`: a copy where the format
    holds it, else audio re-encoded and text subtitles converted; other subtitles,
    attachments and cover pictures it cannot hold are left out, each with a note."""
    tracks, left_out = [], []
    for source in sources:
        why = refusal(container_format, source)
        if why is None and source.type == "attachment":
            container.add_attachment(source.name, source.mimetype, source.data)
            tracks.append(SideTrack(source, None, None))
        elif why is None and as_attachment(source, container_format):
            container.add_attachment(*cover_attachment(source))
            tracks.append(SideTrack(source, None, None))
        elif why is None:
            tracks.append(SideTrack(source, container.add_stream_from_template(source), None))
            StreamLabels.of(source).write(tracks[-1].stream)
        elif is_text_subtitle(source) and container_format in TEXT_SUBTITLES:
            encoder = TEXT_SUBTITLES[container_format]
            try:
                source.codec_context.open()  # its style header, which the encoder takes, comes with the decoder
                stream = container.add_stream(encoder)
                stream.codec_context.subtitle_header = source.codec_context.subtitle_header
                stream.time_base = source.time_base
                stream.codec_context.open()  # here, so that a header it refuses is this stream's line
            except (ValueError, av.FFmpegError) as exc:
                left_out.append(f"{_name(source)} left out: {why}, and it does not convert to {encoder} ({exc})")
                continue
            StreamLabels.of(source).write(stream)
            tracks.append(SideTrack(source, stream, source.codec_context.name, why))
        elif source.type == "audio" and source.codec_context is not None:  # None: no decoder here
            encoder, rate = REENCODE_AUDIO.get(container_format, ("aac", source.rate))
            if rate not in (av.Codec(encoder, "w").audio_rates or [rate]):
                rate = 48000  # 192 kHz is beyond AAC: the encoder's resampler takes it down
            try:
                layout = named_layout(source.layout)
                _open_audio_encoder(encoder, rate, layout)  # a layout it refuses: this stream's line
                stream = container.add_stream(encoder, rate=rate, layout=layout)
            except (ValueError, av.FFmpegError) as exc:
                left_out.append(f"{_name(source)} left out: {why}, and {encoder} does not take it ({exc})")
                continue
            StreamLabels.of(source).write(stream)
            tracks.append(SideTrack(source, stream, source.codec_context.name, why))
        else:
            left_out.append(f"{_name(source)} left out: {why}{_where_it_fits(source, container_format)}")
    return tracks, left_out


def named_layout(layout) -> str:
    """A layout's name for an encoder: FFmpeg's usual one for its channel count where the
    input leaves the order unsaid ("2 channels": PCM in AVI or Matroska), which AAC refuses."""
    unsaid = layout.name == f"{layout.nb_channels} channels"
    return av.AudioLayout(f"{layout.nb_channels}c").name if unsaid else layout.name


def _open_audio_encoder(encoder: str, rate: int, layout: str) -> None:
    """Open `encoder` as the output would, on a context of its own: a stream added to the
    output cannot be taken back, and one the encoder refuses would fail the whole header."""
    context = av.CodecContext.create(encoder, "w")
    context.sample_rate, context.layout = rate, layout
    context.format = av.Codec(encoder, "w").audio_formats[0].name
    context.open()


def cover_attachment(cover) -> tuple[str, str, bytes]:
    """A cover picture stream as a Matroska attachment: (file name, MIME type, the picture).
    The picture is its one packet, read from a handle of its own: the main reader reaches it
    only after the output's header, where attachments go, is written."""
    kind = "jpeg" if _codec(cover) == "mjpeg" else _codec(cover)
    with open_container(cover.container.name) as container:
        picture = next(bytes(packet) for packet in container.demux(container.streams[cover.index]) if packet.size)
    return (cover.metadata.get("filename", f"cover.{kind.replace('jpeg', 'jpg')}"),
            cover.metadata.get("mimetype", f"image/{kind}"), picture)


def describe(tracks: list[SideTrack]) -> str:
    """The side streams of an output, for its summary line: ', audio copied (aac, opus),
    subtitles copied (subrip)'; ', no audio' where it has none."""
    copied = {kind: [t.source.name if kind == "attachment" else _codec(t.source)
                     for t in tracks if t.source.type == kind and t.encoded_from is None]
              for kind in ("audio", "subtitle", "attachment", "video", "data")}  # video: cover pictures

    def converted(kind: str, label: str, verb: str) -> list[str]:
        return [f"{label} {t.encoded_from} {verb} to {t.stream.codec_context.name} ({t.why})"
                for t in tracks if t.source.type == kind and t.encoded_from]

    parts = [f"audio copied ({', '.join(copied['audio'])})"] if copied["audio"] else []
    parts = (parts + converted("audio", "audio", "re-encoded")) or ["no audio"]
    parts += [f"subtitles copied ({', '.join(copied['subtitle'])})"] if copied["subtitle"] else []
    parts += converted("subtitle", "subtitles", "converted")
    parts += [f"{label} copied ({', '.join(copied[kind])})"
              for kind, label in (("attachment", "attachments"), ("video", "cover picture"), ("data", "telemetry"))
              if copied[kind]]
    return "".join(f", {part}" for part in parts)


def _where_it_fits(source, container_format: str) -> str:
    for other, suffix in SUGGESTED:
        if other != container_format and refusal(other, source) is None:
            return f" (write {suffix} to keep it)"
    return ""


def _codec(stream) -> str:
    if stream.codec_context is None:  # a stream FFmpeg has no decoder for, e.g. an mp4 timecode track
        return "timecode" if "timecode" in stream.metadata else "gpmd" if is_telemetry(stream) else "no codec"
    return stream.codec_context.name


def _name(stream) -> str:
    if stream.type == "attachment":
        return f"attachment {stream.index} ({stream.name})"
    return f"{'cover picture' if is_cover(stream) else stream.type + ' stream'} {stream.index} ({_codec(stream)})"
