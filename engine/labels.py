"""What names and marks the input, carried into the output as FFmpeg's own command line
carries it: the container's tags (title, comment, creation time...) and chapters, and each
carried stream's tags (language, title) and disposition (default, forced, hearing impaired...).

Tags that describe how a file was encoded rather than what it holds are not copied: the
encoder's name, MP4's brands, and the statistics Matroska writers keep per stream
(mkvmerge suffixes them with a language: "BPS-eng"), which are wrong once a stream is
re-encoded and which the muxer writes again where it keeps them.
"""
from dataclasses import dataclass, field, replace
from fractions import Fraction

import av

ENCODING_TAGS = {"encoder", "major_brand", "minor_version", "compatible_brands", "duration", "bps",
                 "number_of_frames", "number_of_bytes", "_statistics_writing_app",
                 "_statistics_writing_date_utc", "_statistics_tags"}


def content_tags(tags) -> dict[str, str]:
    return {key: value for key, value in tags.items() if key.lower().split("-")[0] not in ENCODING_TAGS}


@dataclass(frozen=True)
class StreamLabels:
    tags: dict[str, str] = field(default_factory=dict)  # as content_tags keeps them
    disposition: int = 0                                # av.stream.Disposition flags

    @classmethod
    def of(cls, stream) -> "StreamLabels":
        tags = content_tags(stream.metadata)
        if "name" in tags and "title" not in tags:  # MP4 and MOV keep a track's title as "name"
            tags["title"] = tags.pop("name")
        return cls(tags, int(stream.disposition))

    def write(self, stream) -> None:
        """Label the output stream `stream`; before the header is written."""
        stream.metadata.update(self.tags)
        stream.disposition = av.stream.Disposition(self.disposition)


@dataclass(frozen=True)
class Labels:
    """The container's labels and its stylized video stream's; plain values, so that a result
    carrying them crosses processes (engine.cluster)."""
    tags: dict[str, str] = field(default_factory=dict)  # the container's, as content_tags keeps them
    chapters: tuple[dict, ...] = ()                     # PyAV chapter records, in the input's time
    video: StreamLabels = field(default_factory=StreamLabels)

    @classmethod
    def of(cls, container, video) -> "Labels":
        # a chapter without a time base (a zero numerator in the file) places nothing
        chapters = tuple(chapter for chapter in container.chapters() if chapter["time_base"])
        return cls(content_tags(container.metadata), chapters, StreamLabels.of(video))

    def write(self, container, video) -> None:
        """Label the output `container` and its video stream `video`; before the header."""
        container.metadata.update(self.tags)
        self.video.write(video)

    def from_time(self, start: float) -> "Labels":
        """The labels of an output made of the input from `start` seconds on, moved back to
        start at 0: the chapters that end before it left out, the first one cut there."""
        if not start:
            return self
        kept = []
        for chapter in self.chapters:
            base, begin = chapter["time_base"], Fraction(start)
            if chapter["end"] * base <= begin:
                continue
            offset = round(begin / base)
            kept.append({**chapter, "start": max(0, chapter["start"] - offset), "end": chapter["end"] - offset})
        return replace(self, chapters=tuple(kept))

    def chapters_until(self, end: float | None) -> list[dict]:
        """The chapters of an output that ends at `end` seconds (None: where the input ends):
        those that start later left out, the last one cut there."""
        kept = []
        for chapter in self.chapters:
            base = chapter["time_base"]
            if end is not None and chapter["start"] * base >= end:
                continue
            if end is not None and chapter["end"] * base > end:
                chapter = {**chapter, "end": round(Fraction(end) / base)}
            kept.append(chapter)
        return kept
