import pytest
import torch
import torch.nn.functional as F

from vst.core.grid import GRID_PERIOD
from vst.train.losses import content_loss, gram_matrix, grid_loss, style_loss, temporal_loss, tv_loss
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


def picture_crops(count: int, size=(64, 96), seed=0) -> torch.Tensor:
    """(count, 3, H, W) crops of one smooth random picture in [0, 1] at random offsets, as
    the training batches cut frames from videos and photos."""
    gen = torch.Generator().manual_seed(seed)
    picture = F.interpolate(torch.rand(1, 3, 40, 60, generator=gen), size=(160, 240), mode="bicubic").clamp(0, 1)
    offsets = torch.randint(0, 160 - size[0], (count,), generator=gen), torch.randint(0, 240 - size[1], (count,), generator=gen)
    return torch.cat([picture[..., y:y + size[0], x:x + size[1]] for y, x in zip(*offsets)])


def tiled(pattern: torch.Tensor, size) -> torch.Tensor:
    return pattern.repeat(1, size[0] // GRID_PERIOD, size[1] // GRID_PERIOD)[None]


def test_grid_loss_is_the_squared_amplitude_of_a_pattern_fixed_to_the_pixel_grid():
    frames = picture_crops(8)
    pattern = torch.randn(3, 4, 4, generator=torch.Generator().manual_seed(1)) * 2 / 255
    pattern -= pattern.mean(dim=(1, 2), keepdim=True)
    amplitude_levels = 255 * pattern.pow(2).mean().sqrt().item()
    assert grid_loss(frames).item() < 0.01
    assert grid_loss(frames + tiled(pattern, frames.shape[-2:])).item() == pytest.approx(amplitude_levels**2, rel=0.05)


def test_grid_loss_trains_a_grid_away_and_keeps_float32_under_bf16_autocast():
    frames = picture_crops(4)
    pattern = (torch.randn(3, 4, 4, generator=torch.Generator().manual_seed(2)) * 2 / 255).requires_grad_()
    optimizer = torch.optim.SGD([pattern], lr=1e-4)
    first = None
    for _ in range(50):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = grid_loss(frames + tiled(pattern, frames.shape[-2:]))
        assert loss.dtype == torch.float32
        first = first or loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert first > 1 and loss.item() < 0.01 * first
