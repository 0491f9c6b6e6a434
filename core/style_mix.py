"""How much of the style a frame gets, and whether it keeps its own colours.

The style mix blends the stylized frame toward its input: strength 0 gives the input back, 1 the
stylized frame. With preserve_color, only the stylized luminance is taken (Gatys et al. 2016,
*Preserving Color in Neural Artistic Style Transfer*): BT.601 luma of the stylized frame with
the input's chroma. In full-range YCbCr every RGB channel is Y plus a function of (Cb, Cr),
so keeping the input's chroma and taking the stylized Y is exactly adding
Y(stylized) - Y(input) to each channel of the input: no colour-space round trip is needed.
On frames x (input) and y (stylized), on one scale:

    target = x + (luma(y) - luma(x))  with preserve_color, else y
    mixed  = x + strength * (target - x)

Each graph that runs a model computes it in its own ops: core.frame_model (PyTorch, and the
exported ONNX), engine.openvino_runner and core.onnx_runner (appended to a graph);
`mix_frames` here on the host, where one stylized frame is mixed many ways (vst-app's
preview sliders).
"""
from dataclasses import asdict, dataclass

import numpy as np

from vst.core.errors import check_flag, check_number

BT601_LUMA = (0.299, 0.587, 0.114)  # R, G, B weights of Y


@dataclass(frozen=True)
class StyleMix:
    strength: float = 1.0          # in [0, 1]
    preserve_color: bool = False

    def __post_init__(self):
        check_number("strength", self.strength, 0, 1)
        check_flag("preserve_color", self.preserve_color)

    @property
    def is_plain(self) -> bool:
        """The stylized frame as the network gives it: nothing to compute."""
        return self.strength == 1.0 and not self.preserve_color

    def as_record(self) -> dict:
        return asdict(self)


def mix_frames(frames: np.ndarray, stylized: np.ndarray, mix: StyleMix) -> np.ndarray:
    """uint8 (..., 3) RGB frames and their stylized frames -> the mixed frames, the same,
    computed in float32 on the 0-255 scale and rounded half to even as the graphs do."""
    if mix.is_plain:
        return stylized
    x, y = frames.astype(np.float32), stylized.astype(np.float32)
    if mix.preserve_color:
        weights = np.array(BT601_LUMA, np.float32)
        y = x + ((y * weights).sum(-1, keepdims=True) - (x * weights).sum(-1, keepdims=True))
    return np.clip(np.rint(x + np.float32(mix.strength) * (y - x)), 0, 255).astype(np.uint8)
