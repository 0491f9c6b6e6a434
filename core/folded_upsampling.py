"""The nearest-resize up blocks folded into one transposed conv: the same function in 2.25x
fewer multiply-adds and no full-resolution resize or pad, what every exported and compiled
graph runs (core.frame_model); training keeps the resize + conv it learned with. The
sub-pixel tail's fixed blur is folded the same way into the conv before it
(fold_sub_pixel_blur).

A nearest x2 resize, a reflection pad of 1 and a 3 x 3 conv give each output row 2i + a a
2-tap filter of the half-resolution rows: (w0 | w1 + w2) on rows (i - 1, i) for a = 0,
(w0 + w1 | w2) on rows (i, i + 1) for a = 1, and the same along columns. Reflecting the
resized map by one pixel is replicating the input by one. A stride-2 transposed conv with a
4-tap kernel on the replicate-padded input, cropped by 3 (its padding), lands tap k of
(w2, w1 + w2, w0 + w1, w0) on exactly those rows, each once. Equal in real arithmetic; the
float sums round differently (at most one uint8 level apart at the output).
"""
import copy

import torch
from torch import nn
import torch.nn.functional as F

from .stylizer import PhaseBlur, Stylizer

# tap k of the 4-tap transposed kernel = FOLD[k] . (w0, w1, w2) of the 3-tap conv, per axis
FOLD = torch.tensor([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=torch.float64)


class FoldedResizeConv(nn.Module):
    """(N, cin, h, w) -> (N, cout, 2h, 2w), equal to nearest x2, ReflectionPad2d(1), `conv`."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.up = nn.ConvTranspose2d(conv.in_channels, conv.out_channels, 4, stride=2, padding=3,
                                     device=conv.weight.device, dtype=conv.weight.dtype)
        weight, fold = conv.weight.detach().double(), FOLD.to(conv.weight.device)  # (cout, cin, 3, 3)
        with torch.no_grad():  # -> (cin, cout, 4, 4)
            self.up.weight.copy_(torch.einsum("yi,ocij,xj->coyx", fold, weight, fold).to(conv.weight.dtype))
            self.up.bias.copy_(conv.bias.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(F.pad(x, (1, 1, 1, 1), mode="replicate"))


def fold_sub_pixel_blur(conv: nn.Conv2d, blur: PhaseBlur) -> nn.Conv2d:
    """The 1 x 1 conv and the PhaseBlur after it (on the replicate-padded phases) as one 3 x 3
    conv on the replicate-padded input: a pointwise conv commutes with replicate padding, so
    this is exact. A plain convolution, which INT8 runs, where the fixed blur alone would
    quantize the frame's own values."""
    folded = nn.Conv2d(conv.in_channels, blur.kernel.shape[0], 3, device=conv.weight.device, dtype=conv.weight.dtype)
    kernel, weight = blur.kernel.double(), conv.weight.detach().double()[:, :, 0, 0]  # (o, c, 3, 3), (c, i)
    with torch.no_grad():
        folded.weight.copy_(torch.einsum("ocyx,ci->oiyx", kernel, weight).to(conv.weight.dtype))
        folded.bias.copy_(torch.einsum("ocyx,c->o", kernel, conv.bias.detach().double()).to(conv.weight.dtype))
    return folded


def fold_upsampling(stylizer: Stylizer) -> Stylizer:
    """A copy whose nearest-resize up blocks are FoldedResizeConv and whose sub-pixel blur is
    folded into the conv before it (fold_sub_pixel_blur); other layers copied as they are."""
    stylizer = copy.deepcopy(stylizer)
    if stylizer.upsample not in ("resize", "subpixel"):  # "subpixel" has one resize up block
        return stylizer
    for index, block in enumerate(stylizer.body):
        if isinstance(block, nn.Sequential) and isinstance(block[0], nn.Upsample):
            _resize, _pad, conv, *rest = block  # as core.stylizer.up_block builds them
            stylizer.body[index] = nn.Sequential(FoldedResizeConv(conv), *rest)
    if stylizer.upsample == "subpixel":  # as core.stylizer.sub_pixel_tail builds it
        *kept, conv, pad, blur, shuffle = stylizer.body
        stylizer.body = nn.Sequential(*kept, pad, fold_sub_pixel_blur(conv, blur), shuffle)
    return stylizer
