"""Real frames for timing: a video's first frames, decoded and scaled as vst-run does."""
from contextlib import closing
from itertools import islice

import numpy as np

from vst.core.errors import InputError
from vst.engine.video_io import video_pictures

DISTINCT_FRAMES = 8  # cycled; enough that no backend can cache one input's result


def first_frames(video: str, height: int | None = None, width: int | None = None) -> list[np.ndarray]:
    """Up to DISTINCT_FRAMES frames of `video` as uint8 (1, H, W, 3) RGB, at the size
    VideoReader gives for (height, width): the video's own by default, exactly width x height
    if both. InputError where decoding stops before that: a broken clip times nothing."""
    with closing(video_pictures(video, height, width)) as pictures:
        frames = [picture[None] for picture in islice(pictures, DISTINCT_FRAMES)]
    if not frames:
        raise InputError(f"{video}: no frame could be decoded")
    return frames
