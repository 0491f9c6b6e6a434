"""Test media made on the fly: textures and small videos, so no test needs ../shared."""
from pathlib import Path

import av
import numpy as np
import torch


def make_texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """uint8 RGB (height, width, 3): blobs at several scales, trackable by optical flow."""
    rng = np.random.default_rng(seed)
    image = torch.zeros(1, 3, height, width)
    for cell in (4, 8, 16):
        coarse = torch.from_numpy(rng.random((1, 3, height // cell + 2, width // cell + 2),
                                             dtype=np.float32))
        image += torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic",
                                                 align_corners=False)
    image = (image - image.min()) / (image.max() - image.min())
    return (image[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """Encode uint8 RGB (H, W, 3) frames as near-lossless H.264."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "10"}
        for index, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts = index  # in the stream's time base, 1/fps; without it every pts is 0
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    return path
