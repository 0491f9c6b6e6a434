"""vst-eval's scores, accumulated pair by pair and frame by frame.

Frames here are float32 (1, 3, H, W) RGB in [0, 1] (vst.core.convention); flows (1, 2, H, W)
pixels from frame t to t+1 and confidences (1, 1, H, W) in [0, 1] over frame t
(vst.train.warp). Every score reads the stylized frames on this [0, 1] scale.
"""
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from vst.core.convention import frames_to_tensor
from vst.core.grid import GRID_PERIOD, grid_power, phase_means
from vst.core.images import scale_to_height
from vst.train.losses import CONTENT_LAYER, StyleTarget, relative_content_loss


@dataclass
class TemporalScore:
    """E_temporal of Huang et al. Eq. 8 and the warping error of Lai et al. 2018, over the
    pairs added. Both compare x_t with x_t+1 warped back onto it, weighted by the confidence c:
    E_temporal = sqrt(sum c (x_t - f(x_t+1))^2 / ((T-1) D)), every value of every pair in the
    denominator (D = H * W * 3); E_warp = the mean over pairs of sum c (...)^2 / sum c over the
    same values, the mean over confident values only, not rooted."""
    squared: float = 0.0                                    # sum over pairs of c (x_t - f(x_t+1))^2
    values: int = 0                                         # (T-1) D
    pair_warp_errors: list[float] = field(default_factory=list)

    def add(self, squared: torch.Tensor, mask: torch.Tensor) -> None:
        """squared: (1, C, H, W) c (x_t - f(x_t+1))^2, mask: (1, 1, H, W) the c it used."""
        total = squared.sum().item()
        confident_values = mask.sum().item() * squared.shape[1]
        self.squared += total
        self.values += squared.numel()
        # a pair with no confident pixel has nothing to compare: Lai et al. count it as 0
        self.pair_warp_errors.append(total / confident_values if confident_values else 0.0)

    @property
    def e_temporal(self) -> float:
        return math.sqrt(self.squared / self.values)

    @property
    def warping_error(self) -> float:
        return float(np.mean(self.pair_warp_errors))


def error_map(squared: torch.Tensor) -> np.ndarray:
    """Per-pixel Euclidean colour difference sqrt(sum over RGB), float32 (H, W) in [0, sqrt 3]:
    what Fig. 4 of the paper shows."""
    return squared[0].sum(0).sqrt().cpu().numpy()


@dataclass
class GridScore:
    """The grid or checkerboard a model leaves (vst.core.grid), in 8-bit levels: the RMS of
    the phase means, each phase's mean taken over every frame added. A pattern fixed to the
    output grid adds up frame after frame; the picture itself, at no fixed phase, averages
    out (docs/results.md, vst-eval: unstylized frames score 0.01-0.02, the 300-iteration deconv
    baselines 1.3-3.6, the shipped models 0.16-0.37 on their worst clip)."""
    phase_sum: torch.Tensor = field(default_factory=lambda: torch.zeros(3, GRID_PERIOD, GRID_PERIOD))
    frames: int = 0

    def add(self, frame: torch.Tensor) -> None:
        """frame: (1, 3, H, W) RGB in [0, 1], H and W at least GRID_PERIOD."""
        self.phase_sum += phase_means(frame)[0].cpu()
        self.frames += 1

    @property
    def amplitude(self) -> float | None:
        if not self.frames:
            return None
        return 255 * math.sqrt(grid_power(self.phase_sum / self.frames).item())


def gradient_energy(frame: torch.Tensor) -> float:
    """Mean squared difference of horizontally plus of vertically adjacent values of a
    (1, 3, H, W) frame in [0, 1]: how much texture and edge an output carries."""
    return ((frame[..., :, 1:] - frame[..., :, :-1]).pow(2).mean()
            + (frame[..., 1:, :] - frame[..., :-1, :]).pow(2).mean()).item()


def stable_floor(e_temporal_input: float, energy_input: float, energy: float) -> float:
    """The E_temporal that a perfectly stable output with `energy` (gradient_energy) would
    still score against the same flows: a flow error d leaves |grad x . d| in Eq. 8, so to
    first order the input frames' own E_temporal, which is all flow error, lighting and noise
    (the scene does not flicker), scales with the square root of the gradient energy."""
    return e_temporal_input * math.sqrt(energy / energy_input) if energy_input > 0 else 0.0


@dataclass
class MeanScore:
    total: float = 0.0
    count: int = 0

    def add(self, value: float) -> None:
        self.total, self.count = self.total + value, self.count + 1

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class StyleContentDistance:
    """How stylized and how faithful each output is, in vst-train's relative terms
    (vst.train.losses): content = relu4_2 MSE to the input frame / its energy; style = the
    Gram distance to the style image summed over relu1_2..relu4_2, each layer / the style
    Gram's energy. The style image is scaled so its longer side is the frame's, as vst-train
    does by default. A model without a style image gets no style distance. One instance
    serves the frames of one size."""

    def __init__(self, vgg: torch.nn.Module, style_images: list[np.ndarray | None]):
        self.vgg, self.style_images = vgg, style_images
        self.targets: list[StyleTarget | None] | None = None

    def _style_targets(self, frame: torch.Tensor) -> list[StyleTarget | None]:
        longest = max(frame.shape[-2:])
        targets = []
        for image in self.style_images:
            if image is None:
                targets.append(None)
                continue
            height = round(image.shape[0] * longest / max(image.shape[:2]))
            style = frames_to_tensor(scale_to_height(image, height)).to(frame.device)
            targets.append(StyleTarget(self.vgg(style)).to(frame.device))
        return targets

    @torch.no_grad()
    def __call__(self, frame: torch.Tensor, outputs: list[torch.Tensor]) -> list[tuple[float, dict[str, float] | None]]:
        """(content distance, style distance by layer) of each output of `frame`; the style
        distance is the sum of its layers."""
        self.targets = self.targets or self._style_targets(frame)
        content_features = self.vgg(frame)
        content_target = content_features[CONTENT_LAYER]
        distances = []
        for out, style_target in zip(outputs, self.targets):
            # the input frames' own row: their features are already there
            features = content_features if torch.equal(out, frame) else self.vgg(out)
            layers = ({name: value.item() for name, value in style_target.layer_distances(features).items()}
                      if style_target else None)
            distances.append((relative_content_loss(features[CONTENT_LAYER], content_target).item(), layers))
        return distances
