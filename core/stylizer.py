"""The stylizing network of Table 1: 353-Res48 and its Johnson-sized variant 353-Res128.

The decoder is the paper's (two x2 up blocks, then a 3 x 3 conv to RGB), or, for "subpixel",
one resize up block to half resolution and a sub-pixel tail (Shi et al. 2016): a conv block
and a 1 x 1 conv to the 2 x 2 RGB pixels of each half-resolution position, blurred across
them (PhaseBlur). Every layer of that tail is a plain convolution at half resolution, which
INT8 runs at its full rate; the paper's full-resolution up block and last conv do not
quantize well (docs/results.md).

Input and output follow vst.core.convention: (N, 3, H, W) RGB in [0, 1]. Any H x W works:
the frame is padded up to a multiple of 4 (the two stride-2 convs), and to at least 8 so the
quarter-size feature maps stay 2x2 or larger, then cropped back.
"""
import itertools

import torch
from torch import nn
import torch.nn.functional as F

# residual width -> channels of the three encoder convs (Table 1; Res128 as Johnson et al.)
CHANNELS = {48: (16, 32, 48), 128: (32, 64, 128)}
UPSAMPLERS = ("deconv", "resize", "bilinear", "subpixel")
# body[:SHARED_LAYERS], the encoder, the residual blocks and the first up block, is built and
# named alike for every decoder but "deconv", so that a fine-tune into "subpixel" starts from
# a trained model's weights there (train.trainer)
SHARED_LAYERS = 3 + 5 + 1


def conv_block(cin: int, cout: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3, stride),
              nn.InstanceNorm2d(cout, affine=True)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


def up_block(cin: int, cout: int, upsample: str) -> nn.Sequential:
    """x2 upsampling: the paper's transposed conv, or a resize + conv, which avoids the
    checkerboard artifacts of strided transposed convs (Odena et al. 2016): "resize" is
    nearest, whose 2 x 2 copies a strong style term can still lock a faint grid to;
    "bilinear" interpolates them away. The two resize kinds have the same weights."""
    if upsample == "deconv":
        up = [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)]
    else:
        resize = (nn.Upsample(scale_factor=2, mode="nearest") if upsample == "resize" else
                  nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
        up = [resize, nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]
    return nn.Sequential(*up, nn.InstanceNorm2d(cout, affine=True), nn.ReLU(inplace=True))


class PhaseBlur(nn.Module):
    """(N, 12, h + 2, w + 2) -> (N, 12, h, w): on the four phases of each colour that
    PixelShuffle(2) interleaves, the [1, 2, 1] / 4 blur along each axis of the frame it makes
    of them. A sub-pixel layer draws each phase with its own weights, and what differs
    between them repeats every two pixels, a grid the style loss does not see; [1, 2, 1]
    averages any period-2 pattern away exactly and moves nothing. A fixed 3 x 3 convolution
    (no weights to learn) on the replicate-padded phases: at the border, the blur of the
    frame reflected by one pixel."""

    def __init__(self):
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0]) / 4
        kernel = torch.zeros(12, 12, 3, 3)
        for colour, a, b, dy, dx in itertools.product(range(3), range(2), range(2), (-1, 0, 1), (-1, 0, 1)):
            # the frame's row 2i + a + dy is phase (a + dy) % 2 of half-resolution row i + (a + dy) // 2
            source = colour * 4 + (a + dy) % 2 * 2 + (b + dx) % 2
            kernel[colour * 4 + a * 2 + b, source, (a + dy) // 2 + 1, (b + dx) // 2 + 1] += taps[dy + 1] * taps[dx + 1]
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, phases: torch.Tensor) -> torch.Tensor:
        return F.conv2d(phases, self.kernel.to(phases.dtype))


def sub_pixel_tail(channels: int) -> list[nn.Module]:
    """(N, channels, h, w) -> (N, 3, 2h, 2w), before the tanh."""
    return [conv_block(channels, channels), nn.Conv2d(channels, 3 * 4, 1), nn.ReplicationPad2d(1), PhaseBlur(),
            nn.PixelShuffle(2)]


def padded_size(n: int) -> int:
    return max(8, n + -n % 4)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels),
                                  conv_block(channels, channels, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Stylizer(nn.Module):
    def __init__(self, width: int = 48, upsample: str = "deconv"):
        super().__init__()
        if width not in CHANNELS:
            raise ValueError(f"width must be one of {sorted(CHANNELS)}, got {width}")
        if upsample not in UPSAMPLERS:
            raise ValueError(f"upsample must be one of {UPSAMPLERS}, got {upsample!r}")
        self.width, self.upsample = width, upsample
        c1, c2, c3 = CHANNELS[width]
        decoder = ([up_block(c3, c2, "resize"), *sub_pixel_tail(c2)] if upsample == "subpixel" else
                   [up_block(c3, c2, upsample), up_block(c2, c1, upsample), nn.ReflectionPad2d(1), nn.Conv2d(c1, 3, 3)])
        self.body = nn.Sequential(
            conv_block(3, c1), conv_block(c1, c2, stride=2), conv_block(c2, c3, stride=2),
            *[ResidualBlock(c3) for _ in range(5)], *decoder)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        h, w = frames.shape[-2:]
        return to_frame_range(self.body(padded(frames)))[..., :h, :w]


def padded(frames: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) frames padded at the right and bottom to padded_size: what the body takes.
    Replicate, not reflect: reflection needs pad < size, which tiny frames break."""
    h, w = frames.shape[-2:]
    return F.pad(frames, (0, padded_size(w) - w, 0, padded_size(h) - h), mode="replicate")


def to_frame_range(body_out: torch.Tensor) -> torch.Tensor:
    """The body's output through tanh, its [-1, 1] onto the frame range [0, 1]."""
    return (torch.tanh(body_out) + 1) / 2


def shared_weights(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The entries of a Stylizer's state_dict that belong to body[:SHARED_LAYERS]."""
    return {name: value for name, value in weights.items() if int(name.split(".")[1]) < SHARED_LAYERS}
