"""One training item: two frames and the flow between them, as every pair source yields it."""
from typing import NamedTuple

import torch


class FramePair(NamedTuple):
    """One training pair; default_collate batches it into a FramePair of (B, ...) tensors.

    prev: (3, H, W) float32 RGB in [0, 1], frame t-1 (t-2 for long-term pairs)
    cur: (3, H, W) the same for frame t
    flow: (2, H, W) float32 pixels, backward flow t -> prev, so warp(prev, flow) ≈ cur
    confidence: (1, H, W) float32 in [0, 1], where that warp can be trusted
    """
    prev: torch.Tensor
    cur: torch.Tensor
    flow: torch.Tensor
    confidence: torch.Tensor
