import pytest
import torch

from vst.core.stylizer import Stylizer


@pytest.mark.parametrize("width", [48, 128])
@pytest.mark.parametrize("upsample", ["deconv", "resize", "bilinear", "subpixel"])
@pytest.mark.parametrize("size", [(37, 53), (1, 1), (6, 9), (64, 48)])
def test_output_size_equals_input_size(width, upsample, size):
    model = Stylizer(width, upsample).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, *size))
    assert out.shape == (1, 3, *size)
    assert 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("width, params", [(48, 246_963), (128, 1_665_411)])
def test_parameter_counts(width, params):
    # Table 1 with affine instance norm: about 0.25 M (Res48) and 1.7 M (Res128)
    assert sum(p.numel() for p in Stylizer(width).parameters()) == params


def test_crop_keeps_the_top_left_aligned():
    """Padding goes right/bottom only, so a pixel's output stays at its input position."""
    model = Stylizer().eval()
    frame = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        whole = model(frame)
        odd = model(frame[..., :37, :49])
    # far from the padded border the two agree up to instance-norm statistics
    assert (whole[..., :20, :30] - odd[..., :20, :30]).abs().mean() < 0.05


def test_rejects_unknown_width():
    with pytest.raises(ValueError, match="width"):
        Stylizer(64)
