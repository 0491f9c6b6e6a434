"""Stylizer -> ONNX with dynamic batch, height and width, checked against PyTorch.

The graph's I/O is core.frame_io.FRAME_IO: uint8 (N, H, W, 3) RGB in [0, 255], in and out,
output size == input size. "fp16" graphs carry FP16 weights and activations with instance
norm in FP32.
"""
from typing import Callable

import numpy as np
import torch

from vst.core.frame_model import frame_model
from vst.core.metadata import ArtifactMetadata, set_onnx_metadata
from vst.core.onnx_graph import stylizer_to_onnx
from vst.core.quality import reference_frame
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer

PARITY_SIZES = ((97, 131), (144, 256), (270, 480))   # (H, W), one odd
PARITY_TOLERANCE = 1       # max abs error in uint8 levels: a rounding tie may flip one level
FP16_MIN_PSNR = 40.0       # dB, FP16 vs FP32 output on a real frame


def export_onnx(stylizer: Stylizer, metadata: ArtifactMetadata) -> bytes:
    """The serialized ONNX model of the FrameModel in metadata.precision, checker-clean, with
    the metadata record in its metadata_props. Returned, not written, so that callers can
    check it before it appears on disk."""
    import onnx

    proto = stylizer_to_onnx(stylizer, metadata.precision, metadata.mix, metadata.opset)
    onnx.checker.check_model(proto, full_check=True)
    set_onnx_metadata(proto, metadata)
    return proto.SerializeToString()


def parity_error(stylizer: Stylizer, run: Callable[[np.ndarray], np.ndarray], mix: StyleMix = StyleMix()) -> int:
    """Max abs difference (uint8 levels) between PyTorch FP32 and `run` (an exported model on
    a runner, both with `mix`) over real frames at PARITY_SIZES; raises if an output's size
    differs from its input's."""
    reference = frame_model(stylizer, "fp32", mix)
    worst = 0
    for size in PARITY_SIZES:
        frames = reference_frame(size)
        with torch.no_grad():
            expected = reference(torch.from_numpy(frames)).numpy()
        got = run(frames)
        if got.shape != frames.shape:
            raise RuntimeError(f"ONNX output {got.shape} for input {frames.shape}")
        worst = max(worst, int(np.abs(got.astype(np.int16) - expected).max()))
    return worst
