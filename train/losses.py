"""The hybrid loss of Eq. 1-7: content, Gram style, total variation and temporal terms.

Feature maps are (N, C, H, W) VGG activations; frames are (N, 3, H, W) RGB in [0, 1];
flows and confidences follow vst.train.warp ((N, 2, H, W) pixels, (N, 1, H, W) in [0, 1]).
"""
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from vst.core.grid import grid_power, phase_means

from .warp import warp

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_2", "relu4_2")


@dataclass(frozen=True)
class LossWeights:
    """alpha, beta, gamma, lambda of Eq. 1-2 for vst's relative terms (HybridLoss), as the
    shipped styles' first stage has them; the paper's 1, 10, 1e-3, 1e4 belong to its own
    scaling (docs/method.md, "Loss scaling"). grid is vst's own term (grid_loss), off by
    default as in the paper."""
    content: float = 1.0
    style: float = 0.5
    tv: float = 0.05
    temporal: float = 300.0
    grid: float = 0.0


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 3: mean squared feature difference, averaged over the batch; in float32, since
    BF16 autocast hands out bfloat16 features whose 8-bit mantissa the difference would lose."""
    return (features.float() - target.float()).pow(2).mean()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Eq. 4: (N, C, H, W) -> (N, C, C), normalized by H * W. Computed in float32 because
    the sums of products overflow float16 under autocast."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w).float()
    return flat @ flat.transpose(1, 2) / (h * w)


def style_loss(gram: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Eq. 5: squared Frobenius distance / C^2, averaged over the batch."""
    c = gram.shape[-1]
    return (gram - target_gram).pow(2).sum(dim=(-2, -1)).mean() / c**2


def tv_loss(frames: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Eq. 6 with eta = 1, averaged over pixels and batch so gamma does not depend on the
    frame size. eps keeps the gradient of the square root finite on flat regions."""
    dx = frames[..., :-1, 1:] - frames[..., :-1, :-1]
    dy = frames[..., 1:, :-1] - frames[..., :-1, :-1]
    return (dx.pow(2) + dy.pow(2)).sum(dim=1).add(eps).sqrt().mean()


def grid_loss(frames: torch.Tensor) -> torch.Tensor:
    """The squared amplitude, in 8-bit levels, of the pattern the frames share at each pixel
    phase (vst.core.grid): vst-eval's grid score squared, over the batch instead of a clip.
    The training frames sit at random offsets in their videos and photos, so the picture
    averages out over the batch and what is left is the stylizer's own grid."""
    return 255**2 * grid_power(phase_means(frames).mean(0))


def masked_warp_difference(cur: torch.Tensor, prev: torch.Tensor, flow: torch.Tensor,
                           confidence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """c_k (cur_k - f(prev)_k)^2 of Eq. 7-8: prev warped onto cur by `flow` (cur -> prev),
    squared difference (N, C, H, W) weighted by the mask (N, 1, H, W) it returns, which is
    the confidence times 0 where the flow leaves the frame."""
    warped, inside = warp(prev, flow)
    mask = confidence * inside
    return mask * (cur - warped).pow(2), mask


def temporal_loss(cur: torch.Tensor, prev: torch.Tensor, flow: torch.Tensor,
                  confidence: torch.Tensor) -> torch.Tensor:
    """Eq. 7: confidence-masked MSE between frame t and frame t-1 warped onto it by the
    backward flow (t -> t-1), over all N * D values."""
    return masked_warp_difference(cur, prev, flow, confidence)[0].mean()


def relative_content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 3 divided by the mean squared target feature: 1.0 means an error as large as the
    content itself, whatever the VGG weights' scale."""
    return content_loss(features, target) / target.float().pow(2).mean()


class StyleTarget(nn.Module):
    """Eq. 5 summed over STYLE_LAYERS, each layer divided by the style Gram's own
    ||G||^2 / C^2, so that the four layers weigh alike (raw, relu4_2 outweighs relu1_2 by
    ~300x) and 1.0 per layer means an error as large as the style's Gram itself."""

    def __init__(self, style_features: dict[str, torch.Tensor]):
        super().__init__()
        for name in STYLE_LAYERS:
            gram = gram_matrix(style_features[name])
            self.register_buffer(f"gram_{name}", gram)
            self.register_buffer(f"energy_{name}", style_loss(gram, torch.zeros_like(gram)))

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.layer_distances(features).values())

    def layer_distances(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The four terms of forward, by layer: which scale of the style an output misses."""
        return {name: style_loss(gram_matrix(features[name]), getattr(self, f"gram_{name}"))
                / getattr(self, f"energy_{name}") for name in STYLE_LAYERS}


class LossTerms(NamedTuple):
    total: torch.Tensor
    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor
    temporal: torch.Tensor
    grid: torch.Tensor


class HybridLoss(nn.Module):
    """Eq. 1 over a batch of frame pairs: the spatial loss of both frames plus the weighted
    temporal loss.

    Content and style terms are relative (relative_content_loss, StyleTarget): raw, every
    term's scale depends on the VGG weights' preprocessing (Caffe 0..255 vs torchvision's
    standardized input); relative terms keep one set of weights valid for every VGG file.
    """

    def __init__(self, vgg: nn.Module, style_image: torch.Tensor, weights: LossWeights):
        super().__init__()
        self.vgg, self.weights = vgg, weights
        with torch.no_grad():
            self.style_target = StyleTarget(vgg(style_image))

    def spatial(self, inputs: torch.Tensor, outputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Content, style and TV terms of Eq. 2, each averaged over the frames given."""
        with torch.no_grad():
            target = self.vgg(inputs)[CONTENT_LAYER]
        features = self.vgg(outputs)
        return (relative_content_loss(features[CONTENT_LAYER], target), self.style_target(features),
                tv_loss(outputs))

    def forward(self, prev: torch.Tensor, cur: torch.Tensor, out_prev: torch.Tensor,
                out_cur: torch.Tensor, flow: torch.Tensor, confidence: torch.Tensor) -> LossTerms:
        outputs = torch.cat((out_prev, out_cur))
        # both frames in one VGG pass; x2 turns the per-frame mean into Eq. 1's sum over t-1, t
        content, style, tv = (2 * term for term in self.spatial(torch.cat((prev, cur)), outputs))
        zero = torch.zeros((), device=cur.device)
        w = self.weights
        temporal = temporal_loss(out_cur, out_prev, flow, confidence) if w.temporal else zero
        grid = grid_loss(outputs) if w.grid else zero
        total = w.content * content + w.style * style + w.tv * tv + w.temporal * temporal + w.grid * grid
        return LossTerms(total, content, style, tv, temporal, grid)
