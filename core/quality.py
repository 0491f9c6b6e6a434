"""How close two outputs are, and the real frame they are compared on: the precision gates
of the runners (BF16 vs FP32) and of export (FP16 vs FP32, ONNX vs PyTorch) use these."""
from pathlib import Path

import numpy as np

REFERENCE_FRAME = Path(__file__).with_name("reference_frame.jpg")  # Big Buck Bunny, 270 x 480


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (inf when identical)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def below_bar(quality: float, bar: float, what: str, against: str) -> str | None:
    """None when `quality` (the PSNR of `what`'s output, e.g. "FP16", against `against`'s) is at
    least `bar` dB; else why not, in words: the gate that the engine's reduced precisions and
    export's FP16 artifacts pass alike."""
    return None if quality >= bar else f"{what} output is {quality:.1f} dB from {against} (< {bar:g} dB)"


def reference_frame(size: tuple[int, int] | None = None) -> np.ndarray:
    """The reference frame as uint8 (1, H, W, 3) RGB, optionally resized to (H, W) (area
    filter, as a video scaled down would be). Decoded with PyAV, so no OpenCV is needed."""
    import av

    with av.open(str(REFERENCE_FRAME)) as container:
        frame = next(container.decode(video=0))
        if size is not None:
            frame = frame.reformat(width=size[1], height=size[0], interpolation="AREA")
        return np.ascontiguousarray(frame.to_ndarray(format="rgb24")[None])
