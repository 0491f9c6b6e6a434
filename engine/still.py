"""One still image through a backend: `vst-run photo.jpg --style candy` writes
photo.candy.jpg, the same size and format, upright (EXIF orientation applied), its alpha,
metadata and colour profile kept."""
from pathlib import Path
from typing import Callable

import numpy as np

from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.images import encode_photo, read_photo

from .backends import Backend


def stylize_image(source: Path, out: Path, backend: Backend,
                  resize: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[int, int]:
    """Write the stylized `source` (optionally resized first) to `out` atomically; returns
    the written (width, height)."""
    if Path(out).resolve() == Path(source).resolve():
        raise InputError(f"{out}: would overwrite the input")
    photo = read_photo(source)
    if resize is not None:
        photo.pixels = resize(photo.pixels)
        photo.alpha = None if photo.alpha is None else resize(photo.alpha)
    stylized = backend.collect(backend.submit(photo.pixels[None]))[0]
    try:
        encoded = encode_photo(photo, stylized)
    except (KeyError, OSError, ValueError) as exc:  # Pillow cannot write every format it reads
        raise InputError(f"{out}: cannot write a {photo.format} image ({exc})") from None
    write_atomically(out, lambda file: file.write(encoded))
    return photo.pixels.shape[1], photo.pixels.shape[0]
