"""Clips to evaluate: a video file or a folder of frames (sorted by name), read one frame at
a time as uint8 (H, W, 3) RGB, so that long clips never sit in memory."""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from vst.core.errors import InputError
from vst.core.images import read_image, scale_to_height
from vst.core.media import IMAGE_EXTENSIONS
from vst.engine.video_io import video_pictures

INPUT_LABEL = "input (not stylized)"  # vst-eval's row of the clip's own frames, stylized by nothing


@dataclass(frozen=True)
class Clip:
    path: Path
    name: str            # unique among the clips of one run: the stem, else parent/stem

    @property
    def is_folder(self) -> bool:
        return self.path.is_dir()


def named_clips(paths: list[Path]) -> list[Clip]:
    """Clips named by their stem, by parent/stem where stems clash, else by their path."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such video or folder")
        if paths.count(path) > 1:
            raise InputError(f"{path}: given twice")
    names = [path.stem for path in paths]
    for unique in (lambda path: f"{path.parent.name}/{path.stem}", str):
        names = [unique(path) if names.count(name) > 1 else name for path, name in zip(paths, names)]
    return [Clip(path, name) for path, name in zip(paths, names)]


def frame_files(folder: Path) -> list[Path]:
    files = sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise InputError(f"{folder}: no frames in this folder ({' '.join(sorted(IMAGE_EXTENSIONS))})")
    return files


def read_frames(clip: Clip, height: int | None = None, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """The clip's frames in order, scaled to `height` (default: as stored), at most max_frames."""
    frames = _folder_frames(clip.path) if clip.is_folder else video_pictures(str(clip.path))
    size = None
    for count, frame in enumerate(frames):
        if count == max_frames:
            return
        size = size or frame.shape
        if frame.shape != size:
            raise InputError(f"{clip.path}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, "
                             f"the first was {size[1]}x{size[0]}")
        # one resampling for videos and folders, so both give the same frames
        yield scale_to_height(frame, height)


def _folder_frames(folder: Path) -> Iterator[np.ndarray]:
    for path in frame_files(folder):
        yield read_image(path)
