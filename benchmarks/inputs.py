"""Real frames for timing: a video's first frames, decoded and scaled as vst-run does."""
import numpy as np

from vst.core.errors import InputError
from vst.engine.video_io import Frame, VideoReader

DISTINCT_FRAMES = 8  # cycled; enough that no backend can cache one input's result


def first_frames(video: str, height: int | None = None, width: int | None = None,
                 count: int = DISTINCT_FRAMES) -> list[np.ndarray]:
    """Up to `count` frames of `video` as uint8 (1, H, W, 3) RGB, at the size VideoReader
    gives for (height, width): the video's own by default, exactly width x height if both."""
    reader = VideoReader(video, height, audio=False, width=width)
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
