"""The precision gate every CPU BF16 runner passes before it runs: its output on a real frame
must stay close to FP32's, else the runner runs FP32 instead."""
from typing import Callable

import numpy as np

from vst.core.quality import psnr, reference_frame

BF16_MIN_PSNR = 40.0  # dB on the 0-255 scale, BF16 vs FP32 output on a real frame

Stylize = Callable[[np.ndarray], np.ndarray]  # uint8 (1, H, W, 3) RGB in, same out


def precision_gate(bf16: Stylize, fp32: Stylize) -> str | None:
    """None when bf16's output on the reference frame (270 x 480) is within BF16_MIN_PSNR of
    fp32's; else the one-line notice the runner shows as it falls back to FP32."""
    frame = reference_frame()
    quality = psnr(bf16(frame), fp32(frame))
    if quality >= BF16_MIN_PSNR:
        return None
    return f"BF16 output is {quality:.1f} dB from FP32 (< {BF16_MIN_PSNR:g} dB): running in FP32"
