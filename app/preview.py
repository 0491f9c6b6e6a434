"""What vst-app shows before a render: a video's frame at a time (or an image), scaled to the
preview size, stylized once per style and mixed on the host for each slider move, so that
the sliders answer without recompiling a graph. Frames are uint8 (H, W, 3) RGB."""
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vst.core.colour import Colour
from vst.core.errors import InputError
from vst.core.images import read_image, resize
from vst.core.media import open_container, picture_stream
from vst.core.style_mix import StyleMix, mix_frames
from vst.engine.inputs import kind_of
from vst.engine.runner import Runner, open_runner
from vst.engine.video_io import display_rotation, has_timestamps, video_duration

PREVIEW_HEIGHT = 270
PREVIEW_WIDTH = 1080  # a panorama's preview is this wide at the most (and less high)
KEPT = 64  # stylized preview frames cached (style x time x media)


@dataclass(frozen=True)
class Media:
    """An uploaded file (or the sample clip), checked: a video with a video stream, or an image."""
    path: Path
    is_image: bool
    duration: float          # seconds; 0 for an image
    frames: int | None       # a video's frame count where its header has it
    rotation: int = 0        # a video's display rotation, degrees counter-clockwise (a phone's portrait clip)

    @classmethod
    def probe(cls, path: Path) -> "Media":
        """InputError, in words for the page, for anything that is neither."""
        if kind_of(str(path)) == "image":
            read_image(path)  # refuses what does not decode
            return cls(path, True, 0.0, None)
        try:
            with open_container(str(path)) as container:
                video = picture_stream(container, path.name)
                return cls(path, False, video_duration(container, video) or 0.0, video.frames or None,
                           display_rotation(str(path)))
        except av.FFmpegError:
            raise InputError(f"{path.name}: not a video or image vst can read") from None

    def frame_at(self, seconds: float) -> np.ndarray:
        """The picture shown at `seconds` (the first frame at or after it), at preview_size."""
        if self.is_image:
            image = read_image(self.path)
            return resize(image, *preview_size(image.shape[1], image.shape[0]))
        with open_container(str(self.path)) as container:
            video = picture_stream(container, self.path.name)
            matrix = Colour.of(video).swscale_matrix  # as vst-run decodes it, so the preview matches the render
            target = int(max(0.0, seconds) / video.time_base) + (video.start_time or 0)
            if has_timestamps(container):  # a raw stream does not seek (and decodes nothing after trying)
                container.seek(target, stream=video)  # to the keyframe before it
            last = None
            for frame in container.decode(video):
                last = frame
                if frame.pts is None or frame.pts >= target:
                    break  # an untimed frame (a raw stream's, whose length is unknown: 0 s) is the first
        if last is None:
            raise InputError(f"{self.path.name}: no frame could be decoded")
        width, height = preview_size(last.width, last.height)
        return last.to_ndarray(format="rgb24", width=width, height=height, src_colorspace=matrix)


def preview_size(width: int, height: int) -> tuple[int, int]:
    """(width, height), even, of a picture scaled to PREVIEW_HEIGHT rows, or to PREVIEW_WIDTH
    columns where it is that wide: a browser shows neither a 216,000-pixel-wide frame nor a
    WebP over 16,383 pixels."""
    scale = min(PREVIEW_HEIGHT / height, PREVIEW_WIDTH / width)
    return 2 * max(1, round(width * scale / 2)), 2 * max(1, round(height * scale / 2))


class Runners:
    """Opened models: opening one compiles it and runs the precision gate (about a second on
    a CPU), running it takes milliseconds. Each style's plain model (the previews) is kept
    for the app's life; of the models with a mix in the graph (renders) only the last one, so
    that a server trying many strengths does not keep a model for each."""

    def __init__(self):
        self.opened: dict[tuple[str, StyleMix], Runner] = {}
        self.lock = threading.Lock()

    def get(self, style: str, mix: StyleMix = StyleMix()) -> Runner:
        with self.lock:
            if (style, mix) not in self.opened:
                if not mix.is_plain:
                    for key in [key for key in self.opened if not key[1].is_plain]:
                        self.opened.pop(key).close()
                self.opened[style, mix] = open_runner(None, style, mix=mix)
            return self.opened[style, mix]

    def close(self) -> None:
        with self.lock:
            for runner in self.opened.values():
                runner.close()
            self.opened.clear()


class Previewer:
    """input frame, stylized-and-mixed frame for (media, time, style, mix)."""

    def __init__(self, runners: Runners):
        self.runners, self.stylized = runners, OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, media: Media, seconds: float, style: str, mix: StyleMix) -> tuple[np.ndarray, np.ndarray]:
        key = (media.path, round(seconds, 2), style)
        with self.lock:
            cached = self.stylized.get(key)
        if cached is None:
            frame = media.frame_at(seconds)
            runner = self.runners.get(style)
            cached = frame, runner(frame[None])[0]
            with self.lock:
                self.stylized[key] = cached
                while len(self.stylized) > KEPT:
                    self.stylized.popitem(last=False)
        frame, stylized = cached
        # stylized as stored, as the render is; shown as it plays, as the render will
        turns = round(media.rotation / 90) % 4
        return np.rot90(frame, turns), np.rot90(mix_frames(frame, stylized, mix), turns)
