"""How much of the style a frame gets, and whether it keeps its own colours.

`mix_style` blends the stylized frame toward its input: strength 0 gives the input back, 1 the
stylized frame. With preserve_color, only the stylized luminance is taken (Gatys et al. 2016,
*Preserving Color in Neural Artistic Style Transfer*): BT.601 luma of the stylized frame with
the input's chroma. In full-range YCbCr every RGB channel is Y plus a function of (Cb, Cr),
so keeping the input's chroma and taking the stylized Y is exactly adding
Y(stylized) - Y(input) to each channel of the input: no colour-space round trip is needed.
"""
from dataclasses import asdict, dataclass

import torch

BT601_LUMA = (0.299, 0.587, 0.114)  # R, G, B weights of Y


@dataclass(frozen=True)
class StyleMix:
    strength: float = 1.0          # in [0, 1]
    preserve_color: bool = False

    def __post_init__(self):
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {self.strength}")

    @property
    def is_plain(self) -> bool:
        """The stylized frame as the network gives it: nothing to compute."""
        return self.strength == 1.0 and not self.preserve_color

    def as_record(self) -> dict:
        return asdict(self)


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
