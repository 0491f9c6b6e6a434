"""Backward warping by bilinear sampling.

Flows are (N, 2, H, W) float32 in pixels, channel 0 = dx (right), 1 = dy (down), and point
from the target frame into the source frame: warp(src, flow)[p] = src[p + flow[p]].
To bring frame t-1 onto frame t, pass the flow from t to t-1 (the "backward" flow).
"""
import torch
import torch.nn.functional as F


def pixel_grid(height: int, width: int, device=None) -> torch.Tensor:
    """(1, 2, H, W) pixel coordinates (x, y)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=torch.float32),
                            torch.arange(width, device=device, dtype=torch.float32),
                            indexing="ij")
    return torch.stack((xs, ys))[None]


def warp(src: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample src (N, C, H, W) at p + flow(p).

    Returns the warped image and a (N, 1, H, W) float mask that is 1 where the sample point
    lies inside the source frame and 0 where it comes from outside (no data to compare).
    """
    n, _, h, w = src.shape
    pos = pixel_grid(h, w, src.device) + flow.float()
    inside = ((pos[:, 0] >= 0) & (pos[:, 0] <= w - 1) & (pos[:, 1] >= 0) & (pos[:, 1] <= h - 1))
    # grid_sample wants (x, y) normalized to [-1, 1] with align_corners=True at pixel centres
    norm = torch.stack((2 * pos[:, 0] / max(w - 1, 1) - 1, 2 * pos[:, 1] / max(h - 1, 1) - 1), dim=-1)
    warped = F.grid_sample(src, norm.to(src.dtype), mode="bilinear", padding_mode="border",
                           align_corners=True)
    return warped, inside[:, None].to(src.dtype)
