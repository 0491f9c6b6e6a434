"""One still image through a runner: `vst-run photo.jpg --style candy` writes
photo.candy.jpg, the same size and format, upright (EXIF orientation applied), its alpha,
metadata and colour profile kept."""
from pathlib import Path
from typing import Callable

import numpy as np

from vst.core.errors import CommandError, InputError
from vst.core.files import write_atomically
from vst.core.images import encode_photo, format_of, read_photo

from .job import input_beside_output
from .runner import Runner


def stylize_image(source: Path, out: Path, runner: Runner,
                  resize: Callable[[np.ndarray], np.ndarray] | None = None,
                  side_by_side: bool = False) -> tuple[int, int]:
    """Write the stylized `source` (optionally resized first; with side_by_side, the input
    at its left) to `out` atomically, in the format its suffix names; returns the written
    (width, height)."""
    file_format = format_of(out)
    photo = read_photo(source)
    if resize is not None:
        photo.pixels = resize(photo.pixels)
        photo.alpha = None if photo.alpha is None else resize(photo.alpha)
    stylized = runner(photo.pixels[None])[0]
    if side_by_side:
        stylized = input_beside_output(photo.pixels, stylized)
        photo.alpha = None if photo.alpha is None else input_beside_output(photo.alpha, photo.alpha)
    try:
        encoded = encode_photo(photo, stylized, file_format)
    except (KeyError, OSError, ValueError) as exc:  # Pillow cannot write every format it reads
        raise InputError(f"{out}: cannot write a {file_format} image ({exc})") from None
    try:
        write_atomically(out, lambda file: file.write(encoded))
    except OSError as exc:  # a full disk, a vanished folder
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc}); nothing written") from None
    return stylized.shape[1], stylized.shape[0]
