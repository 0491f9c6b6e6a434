"""The stylizer as it is exported and run: uint8 frames in, uint8 frames out.

`FrameModel` takes and returns frames as core.frame_io.FRAME_IO has them (uint8
(N, H, W, 3) RGB in [0, 255], NHWC) and does the cast, scaling, transposes and the style mix
(--strength, --preserve-color) inside the graph, so the host moves 1 byte per channel instead
of 4 and does no per-pixel work. `MixModel` is that mix alone, for a graph exported without it.
"""
import copy

import torch
from torch import nn

from .style_mix import StyleMix, mix_style
from .stylizer import Stylizer


class FrameModel(nn.Module):
    def __init__(self, stylizer: Stylizer, compute_dtype: torch.dtype = torch.float32,
                 mix: StyleMix = StyleMix()):
        super().__init__()
        self.stylizer, self.compute_dtype, self.mix = stylizer, compute_dtype, mix

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        # TensorRT accepts uint8 only straight into or out of a Cast (NVIDIA/TensorRT#3985),
        # so the casts sit at the very ends, outside the transposes.
        x = frames.to(self.compute_dtype).permute(0, 3, 1, 2) / 255
        y = mix_style(x, self.stylizer(x), self.mix) * 255
        return y.round().clamp(0, 255).permute(0, 2, 3, 1).to(torch.uint8)


class MixModel(nn.Module):
    """The style mix of FrameModel on its own: (frames, stylized), uint8 (N, H, W, 3) RGB,
    -> the mixed frames, the same; computed in float32."""

    def __init__(self, mix: StyleMix):
        super().__init__()
        self.mix = mix

    def forward(self, frames: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        x, y = (t.float().permute(0, 3, 1, 2) for t in (frames, stylized))
        return mix_style(x, y, self.mix).round().clamp(0, 255).permute(0, 2, 3, 1).to(torch.uint8)


class Float32InstanceNorm(nn.Module):
    """Instance norm computed in FP32 inside an FP16 network: its mean and variance over
    H x W overflow or lose precision in FP16 on large frames (NVIDIA/TensorRT#2691)."""

    def __init__(self, norm: nn.InstanceNorm2d):
        super().__init__()
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.float()).to(x.dtype)


def frame_model(stylizer: Stylizer, precision: str, mix: StyleMix = StyleMix()) -> FrameModel:
    """A FrameModel in "fp32" or "fp16" (FP16 weights and activations, FP32 instance norm),
    built on a copy so the caller's stylizer is untouched."""
    stylizer = copy.deepcopy(stylizer).eval()
    if precision == "fp32":
        return FrameModel(stylizer, mix=mix)
    for module in list(stylizer.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                setattr(module, name, Float32InstanceNorm(child))
    stylizer.half()
    for module in stylizer.modules():
        if isinstance(module, Float32InstanceNorm):
            module.norm.float()
    return FrameModel(stylizer, torch.float16, mix)
