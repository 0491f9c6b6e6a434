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


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10, codec: str = "libx264",
                audio: str | None = None, rotation: int = 0) -> Path:
    """Encode uint8 RGB (H, W, 3) frames (near-lossless for x264), optionally with a tone
    encoded by the `audio` codec (aac, libopus, mp3...) lasting as long as the video, and a
    display `rotation` (degrees) in the container."""
    height, width = frames[0].shape[:2]
    even = width % 2 == 0 and height % 2 == 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if even or codec != "libx264" else "yuv444p"
        stream.options = {"crf": "10"} if codec == "libx264" else {}
        if rotation:
            stream.set_display_rotation(rotation)
        sound = container.add_stream(audio, rate=48000, layout="mono") if audio else None
        for index, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts = index  # in the stream's time base, 1/fps; without it every pts is 0
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
        if sound is not None:
            add_tone(container, sound, len(frames) / fps)
    return path


def add_tone(container, sound, seconds: float) -> None:
    """Encode a 440 Hz mono tone of `seconds` into the 48 kHz audio stream `sound`."""
    samples = int(48000 * seconds)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
    chunk = sound.frame_size or 1024
    for start in range(0, samples, chunk):
        piece = av.AudioFrame.from_ndarray(tone[None, start:start + chunk], format="fltp", layout="mono")
        piece.sample_rate, piece.pts = 48000, start
        container.mux(sound.encode(piece))
    container.mux(sound.encode())
