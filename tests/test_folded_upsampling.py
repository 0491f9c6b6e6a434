"""The resize up blocks folded into transposed convs compute what they did as trained: the
same function on odd sizes, the same frames out of every exported graph."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vst.core.checkpoint import Checkpoint
from vst.core.folded_upsampling import FoldedResizeConv, fold_upsampling
from vst.core.frame_model import frame_model
from vst.core.quality import reference_frame
from vst.core.stylizer import PhaseBlur, Stylizer
from vst.styles import shipped_checkpoint


@pytest.mark.parametrize("size", [(1, 1), (5, 3), (37, 53)])
def test_a_folded_block_equals_resize_pad_conv(size):
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 4, 3)
    trained = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), conv)
    x = torch.randn(2, 6, *size)
    with torch.no_grad():
        expected, got = trained(x), FoldedResizeConv(conv)(x)
    assert got.shape == expected.shape == (2, 4, 2 * size[0], 2 * size[1])
    assert (got - expected).abs().max() < 1e-5


def test_folding_leaves_the_trained_stylizer_and_other_upsamplers_alone():
    resize = Stylizer(48, "resize")
    before = copy.deepcopy(resize.state_dict())
    folded = fold_upsampling(resize)
    assert sum(isinstance(m, FoldedResizeConv) for m in folded.modules()) == 2
    assert not any(isinstance(m, nn.Upsample) for m in folded.modules())
    assert all(torch.equal(before[k], v) for k, v in resize.state_dict().items())
    for upsample in ("deconv", "bilinear"):
        other = fold_upsampling(Stylizer(48, upsample))
        assert not any(isinstance(m, FoldedResizeConv) for m in other.modules())


def test_the_sub_pixel_decoder_folds_its_resize_block_and_its_blur():
    torch.manual_seed(0)
    subpixel = Stylizer(48, "subpixel").eval()
    folded = fold_upsampling(subpixel)
    assert sum(isinstance(m, FoldedResizeConv) for m in folded.modules()) == 1
    assert not any(isinstance(m, PhaseBlur) for m in folded.modules())
    x = torch.rand(1, 3, 37, 53)
    with torch.no_grad():
        assert (folded(x) - subpixel(x)).abs().max() < 1e-5


def test_the_phase_blur_is_a_binomial_blur_of_the_frame_that_removes_a_two_pixel_grid():
    torch.manual_seed(0)
    phases = torch.randn(1, 12, 5, 7)
    blurred = nn.PixelShuffle(2)(PhaseBlur()(F.pad(phases, (1, 1, 1, 1), mode="replicate")))
    taps = torch.tensor([1.0, 2.0, 1.0]) / 4
    binomial = (taps[:, None] * taps[None, :]).expand(3, 1, 3, 3)
    frame = F.pad(nn.PixelShuffle(2)(phases), (1, 1, 1, 1), mode="reflect")
    assert (blurred - F.conv2d(frame, binomial, groups=3)).abs().max() < 1e-6
    grid = torch.zeros(1, 12, 5, 7)
    grid[:, 0::4] = 1.0  # each colour's top-left phase lifted: a grid of period 2
    flat = nn.PixelShuffle(2)(PhaseBlur()(F.pad(grid, (1, 1, 1, 1), mode="replicate")))
    assert torch.allclose(flat, torch.full_like(flat, 0.25))


def test_a_shipped_style_gives_the_same_frames_folded():
    stylizer = Checkpoint.load(shipped_checkpoint("candy")).stylizer
    for size in ((97, 131), (270, 480)):
        frame = torch.from_numpy(reference_frame(size))
        with torch.no_grad():
            folded = frame_model(stylizer, "fp32")(frame).numpy().astype(int)
            trained = frame_model(stylizer, "fp32", fold=False)(frame).numpy().astype(int)
        assert np.abs(folded - trained).max() <= 1  # a rounding tie may flip one level
