"""Still images in and out: uint8 (H, W, 3) RGB arrays, as decoders hand out frames."""
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import write_atomically


def read_image(path: Path, longest: int | None = None) -> np.ndarray:
    """Read an image as uint8 RGB (H, W, 3), optionally resized so its longer side is
    `longest` pixels. Unreadable files raise InputError."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"{path}: cannot read this image")
    if longest:
        h, w = image.shape[:2]
        scale = longest / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: Path, image: np.ndarray) -> None:
    """Write a uint8 RGB (H, W, 3) image atomically; the format follows the suffix."""
    import cv2

    ok, encoded = cv2.imencode(Path(path).suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(f"{path}: cannot encode an image of this type")
    write_atomically(path, lambda file: file.write(encoded.tobytes()))


def scale_to_height(image: np.ndarray, height: int | None) -> np.ndarray:
    """uint8 (H, W, 3) resized to `height` rows, aspect kept (area resampling); as is if None."""
    import cv2

    if height is None or height == image.shape[0]:
        return image
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
