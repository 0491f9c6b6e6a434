"""The stylizer as it is exported and run: uint8 frames in, uint8 frames out.

`FrameModel` takes and returns frames as core.frame_io.FRAME_IO has them (uint8
(N, H, W, 3) RGB in [0, 255], NHWC) and does the cast, scaling, transposes and the style mix
(--strength, --preserve-color) inside the graph, so the host moves 1 byte per channel instead
of 4 and does no per-pixel work.
"""
import copy

import torch
from torch import nn

from .style_mix import BT601_LUMA, StyleMix
from .stylizer import Stylizer
from .folded_upsampling import fold_upsampling


def luma(frames: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) BT.601 luma, same range."""
    weights = torch.tensor(BT601_LUMA, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    return (frames * weights).sum(dim=1, keepdim=True)


def mix_style(frames: torch.Tensor, stylized: torch.Tensor, mix: StyleMix) -> torch.Tensor:
    """frames, stylized: (N, 3, H, W) RGB on one scale (vst.core.convention's [0, 1], or
    0-255); returns the mix on that scale, not yet clipped."""
    if mix.is_plain:
        return stylized
    target = frames + (luma(stylized) - luma(frames)) if mix.preserve_color else stylized
    return frames + mix.strength * (target - frames)


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


class Float32InstanceNorm(nn.Module):
    """Instance norm computed in FP32 inside an FP16 network: its mean and variance over
    H x W overflow or lose precision in FP16 on large frames (NVIDIA/TensorRT#2691)."""

    def __init__(self, norm: nn.InstanceNorm2d):
        super().__init__()
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.float()).to(x.dtype)


def frame_model(stylizer: Stylizer, precision: str, mix: StyleMix = StyleMix(), fold: bool = True) -> FrameModel:
    """A FrameModel in "fp32" or "fp16" (FP16 weights and activations, FP32 instance norm),
    its resize up blocks folded into transposed convs (core.folded_upsampling) unless `fold`
    is False (vst-bench times both), built on a copy so the caller's stylizer is untouched."""
    stylizer = (fold_upsampling(stylizer) if fold else copy.deepcopy(stylizer)).eval()
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
