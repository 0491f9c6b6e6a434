"""Real frames for timing: a clip's first frames, scaled to the benchmark's resolution."""
from pathlib import Path

import numpy as np

from vst.engine.video_io import open_source
from vst.train.errors import InputError

DISTINCT_FRAMES = 8  # cycled; enough that no backend can cache one input's result


def clip_frames(clip: Path, width: int, height: int, count: int = DISTINCT_FRAMES) -> list[np.ndarray]:
    """Up to `count` frames of `clip` as uint8 (1, height, width, 3) RGB, scaled by FFmpeg's
    swscale to exactly that size whatever the clip's aspect ratio."""
    import av

    frames = []
    with open_source(str(clip)) as container:
        try:
            for frame in container.decode(video=0):
                rgb = frame.reformat(width=width, height=height, format="rgb24")
                frames.append(rgb.to_ndarray()[None])
                if len(frames) == count:
                    break
        except av.FFmpegError as exc:
            if not frames:
                raise InputError(f"{clip}: no frame could be decoded ({exc.__class__.__name__})") from None
    if not frames:
        raise InputError(f"{clip}: no frame could be decoded")
    return frames
