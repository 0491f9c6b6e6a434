"""Still images in and out: uint8 (H, W, 3) RGB arrays, as decoders hand out frames.

Pillow reads and writes them (every install has it; OpenCV is a training extra): the EXIF
orientation a camera records is applied on reading, so arrays are upright as viewers show
them, and a written image carries the source's metadata with that orientation reset.
"""
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .frame_io import MAX_SIDE
from .errors import InputError
from .files import write_atomically

ORIENTATION = 0x0112  # the EXIF tag
JPEG_QUALITY = 95


@dataclass
class Photo:
    """An image file as read: upright uint8 (H, W, 3) RGB pixels, an alpha plane where the
    file has one, and what writing it back in its own format needs."""
    pixels: np.ndarray
    alpha: np.ndarray | None      # uint8 (H, W), or None
    format: str                   # Pillow's name: "JPEG", "PNG", ...
    exif: bytes | None            # with the orientation reset to upright
    icc_profile: bytes | None


def read_photo(path: Path) -> Photo:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            if max(opened.size) > MAX_SIDE:
                raise InputError(f"{path}: {opened.size[0]}x{opened.size[1]}; at most {MAX_SIDE} pixels a side")
            image = ImageOps.exif_transpose(opened)
            file_format = "JPEG" if opened.format == "MPO" else opened.format  # cameras' JPEG + previews
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path}: cannot read this image ({type(exc).__name__})") from None
    exif = image.getexif()
    if ORIENTATION in exif:
        exif[ORIENTATION] = 1
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    alpha = np.array(image.getchannel("A")) if image.mode in ("RGBA", "LA", "PA") else None
    # a CMYK or grey image's colour profile does not describe the RGB pixels written back
    profile = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None
    # np.array, not asarray: Pillow's buffer is read-only, and torch.from_numpy warns on it
    return Photo(np.array(image.convert("RGB")), alpha, file_format, exif.tobytes() if exif else None, profile)


def read_image(path: Path, longest: int | None = None) -> np.ndarray:
    """Read an image as upright uint8 RGB (H, W, 3), optionally resized so its longer side is
    `longest` pixels. Unreadable files raise InputError."""
    image = read_photo(path).pixels
    if longest:
        h, w = image.shape[:2]
        scale = longest / max(h, w)
        image = resize(image, max(1, round(w * scale)), max(1, round(h * scale)))
    return image


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (H, W, C) to (height, width, C): area averaging down (no aliasing), bicubic up."""
    from PIL import Image

    if (height, width) == image.shape[:2]:
        return image
    down = width <= image.shape[1] and height <= image.shape[0]
    method = Image.Resampling.BOX if down else Image.Resampling.BICUBIC
    return np.array(Image.fromarray(image).resize((width, height), method))


def format_of(path: Path) -> str:
    """Pillow's name of the image format a file name asks for; InputError for none."""
    from PIL import Image

    file_format = Image.registered_extensions().get(Path(path).suffix.lower())
    if file_format is None:
        raise InputError(f"{path}: not an image file name (.jpg, .png, .webp, ...)")
    return file_format


def encode_photo(photo: Photo, pixels: np.ndarray, file_format: str, jpeg_quality: int = JPEG_QUALITY) -> bytes:
    """`pixels` (uint8 (H, W, 3) RGB, the size of the photo's alpha plane where it has one) as
    `file_format`, with that alpha plane (where the format holds one), the photo's metadata
    and colour profile."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(pixels))
    if photo.alpha is not None and file_format != "JPEG":
        image.putalpha(Image.fromarray(photo.alpha))
    options = {key: value for key, value in (("exif", photo.exif), ("icc_profile", photo.icc_profile)) if value}
    if file_format == "JPEG":
        options.update(quality=jpeg_quality, subsampling=0)  # keep the style's fine colour detail
    buffer = io.BytesIO()
    image.save(buffer, format=file_format, **options)
    return buffer.getvalue()


def write_image(path: Path, image: np.ndarray, jpeg_quality: int = JPEG_QUALITY) -> None:
    """Write a uint8 RGB (H, W, 3) image atomically; the format follows the suffix."""
    encoded = encode_photo(Photo(image, None, "", None, None), image, format_of(path), jpeg_quality)
    write_atomically(path, lambda file: file.write(encoded))


def width_at(image: np.ndarray, height: int) -> int:
    """The width of an (H, W, ...) image scaled to `height` rows, aspect kept."""
    return max(1, round(image.shape[1] * height / image.shape[0]))


def scale_to_height(image: np.ndarray, height: int | None) -> np.ndarray:
    """uint8 (H, W, 3) resized to `height` rows, aspect kept (area resampling); as is if None."""
    if height is None or height == image.shape[0]:
        return image
    return resize(image, width_at(image, height), height)
