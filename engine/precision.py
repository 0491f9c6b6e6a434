"""The precision gate every reduced-precision CPU runner passes before it runs: its output on
a real frame must stay close to FP32's, else the runner steps down (INT8 -> BF16 -> FP32)."""
from typing import Callable

import numpy as np

from vst.core.quality import below_bar, psnr, reference_frame

BF16_MIN_PSNR = 40.0  # dB on the 0-255 scale, BF16 vs FP32 output on a real frame
INT8_MIN_PSNR = 38.0  # dB, INT8 (engine.int8) vs FP32

Stylize = Callable[[np.ndarray], np.ndarray]  # uint8 (1, H, W, 3) RGB in, same out


def min_psnr(precision: str) -> float:
    # read at call time, so that a test can raise a bar
    return {"bf16": BF16_MIN_PSNR, "int8": INT8_MIN_PSNR}[precision]


def precision_gate(reduced: Stylize, fp32: Stylize, precision: str = "bf16") -> str | None:
    """None when `reduced`'s output on the reference frame (270 x 480), in `precision`
    ("bf16" or "int8"), is within min_psnr(precision) of fp32's; else why it is not, in words."""
    frame = reference_frame()
    return below_bar(psnr(reduced(frame), fp32(frame)), min_psnr(precision), precision.upper(), "FP32")
