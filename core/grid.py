"""The grid a stylizer can leave (Odena et al. 2016): one small pattern repeated at every
GRID_PERIOD x GRID_PERIOD block of its output, fixed to the pixel grid rather than to the
scene. vst-eval scores it (vst.benchmarks.scores.GridScore) and training can penalise it
(vst.train.losses.grid_loss); both read it through phase_means.

Frames are (N, 3, H, W) RGB in [0, 1], H and W at least GRID_PERIOD.
"""
import math

import torch
import torch.nn.functional as F

# the stylizer's two stride-2 stages repeat any artifact of theirs every 4 output pixels
GRID_PERIOD = 4
# the high-pass that leaves the grid and removes the picture: a period-4 pattern keeps >99 %
GRID_BLUR_SIGMA = 2.0
# 4 sigma, the extent OpenCV's GaussianBlur gives float images for this sigma
GRID_RADIUS = math.ceil(4 * GRID_BLUR_SIGMA)


def _gaussian_blur(frames: torch.Tensor) -> torch.Tensor:
    taps = torch.arange(-GRID_RADIUS, GRID_RADIUS + 1, dtype=frames.dtype, device=frames.device)
    kernel = torch.exp(-taps**2 / (2 * GRID_BLUR_SIGMA**2))
    kernel = (kernel / kernel.sum()).repeat(frames.shape[1], 1, 1, 1)       # (C, 1, 1, K)
    # reflected as OpenCV does; a frame smaller than the kernel (vst-eval takes 8 lines) has
    # too few pixels to reflect, and its edge is repeated for the rest
    ry, rx = (min(GRID_RADIUS, n - 1) for n in frames.shape[-2:])
    padded = F.pad(F.pad(frames, (rx, rx, ry, ry), mode="reflect"),
                   (GRID_RADIUS - rx,) * 2 + (GRID_RADIUS - ry,) * 2, mode="replicate")
    rows = F.conv2d(padded, kernel, groups=frames.shape[1])
    return F.conv2d(rows, kernel.transpose(2, 3), groups=frames.shape[1])


def phase_means(frames: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 3, GRID_PERIOD, GRID_PERIOD) float32: each frame's high-passed
    values averaged over the blocks at each pixel phase (y mod 4, x mod 4). The picture, at
    no fixed phase, averages out over a frame and more so over many; a grid does not.
    Always float32: the patterns are a few 8-bit levels, below bfloat16's resolution at 0.5."""
    with torch.autocast(frames.device.type, enabled=False):
        frames = frames.float()
        high = frames - _gaussian_blur(frames)
        n, c, h, w = high.shape
        h, w = h - h % GRID_PERIOD, w - w % GRID_PERIOD
        blocks = high[..., :h, :w].reshape(n, c, h // GRID_PERIOD, GRID_PERIOD, w // GRID_PERIOD, GRID_PERIOD)
        return blocks.mean(dim=(2, 4))


def grid_power(phases: torch.Tensor) -> torch.Tensor:
    """Mean square of (..., 3, P, P) phase means about their mean over the phases: the
    grid's power on the [0, 1] scale (its RMS is the amplitude)."""
    return (phases - phases.mean(dim=(-2, -1), keepdim=True)).pow(2).mean()
