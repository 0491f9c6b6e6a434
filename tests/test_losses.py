import pytest
import torch

from vst.train.losses import content_loss, gram_matrix, style_loss, temporal_loss, tv_loss
from vst.train.warp import warp


def test_content_is_mean_squared_feature_difference():
    a = torch.zeros(1, 2, 2, 2)
    b = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 2.0]]]])
    assert content_loss(b, a).item() == pytest.approx((1 + 4 + 9 + 16 + 4) / 8)


def test_gram_is_normalized_by_height_times_width():
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # C=2, H=1, W=2
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 2
    assert torch.allclose(gram_matrix(features), expected)


def test_style_is_squared_frobenius_over_channels_squared():
    gram = torch.tensor([[[2.5, 5.5], [5.5, 12.5]]])
    target = torch.tensor([[[0.5, 5.5], [4.5, 12.5]]])
    assert style_loss(gram, target).item() == pytest.approx((4 + 1) / 4)
    assert style_loss(gram, gram).item() == 0


def test_tv_is_mean_gradient_magnitude():
    # one channel 3x3 ramp: every interior-left pixel has dx = 3, dy = 4 -> |grad| = 5
    image = torch.tensor([[[[0.0, 3.0, 6.0], [4.0, 7.0, 10.0], [8.0, 11.0, 14.0]]]])
    assert tv_loss(image).item() == pytest.approx(5.0)
    # colour channels add inside the square root (the pixel is a vector)
    assert tv_loss(image.repeat(1, 4, 1, 1)).item() == pytest.approx(10.0)
    assert tv_loss(torch.ones(1, 3, 5, 5)).item() == pytest.approx(0.0, abs=1e-3)


def test_warp_with_zero_flow_is_identity():
    image = torch.rand(2, 3, 7, 9)
    warped, inside = warp(image, torch.zeros(2, 2, 7, 9))
    assert torch.allclose(warped, image, atol=1e-6)
    assert inside.min() == 1


def test_warp_with_integer_shift_is_that_shift():
    image = torch.rand(1, 3, 6, 10)
    flow = torch.zeros(1, 2, 6, 10)
    flow[:, 0], flow[:, 1] = 2, -1  # sample 2 right, 1 up
    warped, inside = warp(image, flow)
    assert torch.allclose(warped[..., 1:, :-2], image[..., :-1, 2:], atol=1e-6)
    assert inside[0, 0, 1:, :-2].min() == 1
    assert inside[0, 0, 0].max() == 0 and inside[0, 0, :, -2:].max() == 0


def shifted_pair(shift: int = 3):
    """A frame and the next one, moved `shift` pixels right, with the exact backward flow."""
    torch.manual_seed(0)
    prev = torch.rand(1, 3, 16, 24)
    cur = torch.roll(prev, shifts=shift, dims=-1)
    flow = torch.zeros(1, 2, 16, 24)
    flow[:, 0] = -shift
    return prev, cur, flow


def test_temporal_is_zero_for_consistent_outputs():
    prev, cur, flow = shifted_pair()
    assert temporal_loss(cur, prev, flow, torch.ones(1, 1, 16, 24)).item() == pytest.approx(0, abs=1e-10)


def test_temporal_grows_with_flicker_and_ignores_unconfident_pixels():
    prev, cur, flow = shifted_pair()
    confidence = torch.ones(1, 1, 16, 24)
    noise = torch.randn_like(cur)
    losses = [temporal_loss(cur + a * noise, prev, flow, confidence).item() for a in (0.01, 0.1, 0.3)]
    assert losses[0] < losses[1] < losses[2]
    assert temporal_loss(cur + noise, prev, flow, torch.zeros_like(confidence)).item() == 0
