"""One clip through every model at once, frame by frame: the temporal scores of each
consecutive pair (flows and masks from the *input* frames, so every model is measured
against the same motion), the style and content distances of each frame, and optionally
the error maps of one pair (Fig. 4)."""
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
from tqdm import tqdm

from vst.core.convention import frames_to_tensor, tensor_to_frames
from vst.core.errors import InputError
from vst.core.paths import portable
from vst.train.losses import masked_warp_difference

from .clips import INPUT_LABEL, Clip
from .pair_flows import FlowSource, PairFlow
from .scores import (GridScore, MeanScore, StyleContentDistance, TemporalScore, error_map, gradient_energy,
                     stable_floor)


@dataclass(frozen=True)
class EvalModel:
    label: str
    backend: str                                    # what ran it, e.g. "ONNX Runtime (CPU)"
    stylize: Callable[[np.ndarray], np.ndarray]     # uint8 (1, H, W, 3) RGB -> the same
    style_image: np.ndarray | None = None           # uint8 (H, W, 3) RGB, for the style distance


# the frames themselves: how much the flow and warp alone leave unexplained
INPUT_FRAMES = EvalModel(INPUT_LABEL, "none", lambda frames: frames)


@dataclass
class ModelResult:
    label: str
    backend: str
    temporal: TemporalScore = field(default_factory=TemporalScore)
    content: MeanScore = field(default_factory=MeanScore)
    style_layers: dict[str, MeanScore] = field(default_factory=dict)  # the style distance by VGG layer
    grid: GridScore = field(default_factory=GridScore)
    gradient: MeanScore = field(default_factory=MeanScore)

    def as_record(self, floor: float | None) -> dict:
        return {"model": self.label, "backend": self.backend,
                "e_temporal": self.temporal.e_temporal, "warping_error": self.temporal.warping_error,
                "stable_floor": floor, "content_distance": self.content.mean, "style_distance": self.style_distance,
                "style_distance_layers": {name: score.mean for name, score in self.style_layers.items()} or None,
                "grid_amplitude": self.grid.amplitude, "gradient_energy": self.gradient.mean}

    @property
    def style_distance(self) -> float | None:
        """Mean over frames of the style distance: the sum of its layers' means."""
        return sum(score.mean for score in self.style_layers.values()) if self.style_layers else None

    def add_style(self, layers: dict[str, float]) -> None:
        for name, value in layers.items():
            self.style_layers.setdefault(name, MeanScore()).add(value)


@dataclass
class ErrorMaps:
    """One pair's Fig. 4: for each model, its stylized frame t (uint8 (H, W, 3) RGB) and the
    error map (float32 (H, W), sqrt of the masked squared RGB difference); mask (H, W) 0/1."""
    pair: int                       # the pair of frames pair and pair + 1 (0-based)
    mask: np.ndarray
    frames: list[np.ndarray] = field(default_factory=list)
    maps: list[np.ndarray] = field(default_factory=list)


@dataclass
class ClipResult:
    clip: Clip
    flow: str                       # how the flow was obtained
    frames: int = 0
    size: tuple[int, int] = (0, 0)  # (width, height) evaluated
    pairs: int = 0                  # pairs scored
    confident: MeanScore = field(default_factory=MeanScore)  # fraction of pixels with c = 1
    models: list[ModelResult] = field(default_factory=list)
    maps: ErrorMaps | None = None

    def as_record(self) -> dict:
        return {"clip": self.clip.name, "path": portable(self.clip.path), "flow": self.flow,
                "frames": self.frames, "size": list(self.size), "pairs_scored": self.pairs,
                "pairs_total": max(self.frames - 1, 0), "confident_fraction": self.confident.mean,
                "results": [model.as_record(self.stable_floor(model)) for model in self.models]}

    def stable_floor(self, model: ModelResult) -> float | None:
        """scores.stable_floor of `model`; None where the input frames were not scored."""
        frames = next((m for m in self.models if m.label == INPUT_FRAMES.label), None)
        if frames is None or not frames.temporal.values:
            return None
        return stable_floor(frames.temporal.e_temporal, frames.gradient.mean, model.gradient.mean)


def evaluate_clip(clip: Clip, frames: Iterable[np.ndarray], models: list[EvalModel],
                  flows: FlowSource,
                  distance_vgg: torch.nn.Module | None = None, map_pair: int | None = None,
                  want_maps: bool = False, device: str = "cpu") -> ClipResult:
    """Scores of every model on `clip`; frames: its uint8 (H, W, 3) RGB frames in order.
    With want_maps, keeps the error maps of pair `map_pair` (None: the first pair scored)."""
    result = ClipResult(clip, flows.description,
                        models=[ModelResult(model.label, model.backend) for model in models])
    distance = (StyleContentDistance(distance_vgg, [model.style_image for model in models])
                if distance_vgg is not None else None)
    previous = previous_outputs = None
    for index, frame in enumerate(tqdm(frames, desc=clip.name, unit="frame", leave=False)):
        frame_tensor = frames_to_tensor(frame).to(device)
        outputs = [frames_to_tensor(model.stylize(frame[None])).to(device) for model in models]
        for scores, out in zip(result.models, outputs):
            scores.grid.add(out)
            scores.gradient.add(gradient_energy(out))
        if distance is not None:
            for scores, (content, style_layers) in zip(result.models, distance(frame_tensor, outputs)):
                scores.content.add(content)
                if style_layers is not None:
                    scores.add_style(style_layers)
        if previous is not None:
            pair = flows(index - 1, previous, frame)
            if pair is not None:
                _score_pair(result, index - 1, pair, previous_outputs, outputs,
                            want_maps and (map_pair is None and result.maps is None or map_pair == index - 1))
        previous, previous_outputs = frame, outputs
        result.frames, result.size = index + 1, (frame.shape[1], frame.shape[0])
    if result.frames < 2:
        raise InputError(f"{clip.path}: has {result.frames} frame(s); need at least 2")
    if result.pairs == 0:
        raise InputError(f"{clip.path}: no frame pair has a flow to score with")
    if want_maps and result.maps is None:
        raise InputError(f"{clip.path}: the error-map pair {map_pair} -> {map_pair + 1} was not scored "
                         f"(the clip has {result.frames - 1} pairs, {result.pairs} scored)")
    return result


def _score_pair(result: ClipResult, index: int, pair: PairFlow,
                outputs: list[torch.Tensor], next_outputs: list[torch.Tensor], keep_maps: bool) -> None:
    device = outputs[0].device
    flow = torch.from_numpy(pair.flow).permute(2, 0, 1)[None].to(device)
    confidence = torch.from_numpy(pair.confidence)[None, None].to(device)
    maps = None
    for scores, out, next_out in zip(result.models, outputs, next_outputs):
        # Eq. 8 warps x_t+1 back onto x_t with the forward flow t -> t+1
        squared, mask = masked_warp_difference(out, next_out, flow, confidence)
        scores.temporal.add(squared, mask)
        if keep_maps:
            maps = maps or ErrorMaps(index, mask[0, 0].cpu().numpy())
            maps.frames.append(tensor_to_frames(out)[0])
            maps.maps.append(error_map(squared))
    result.confident.add(mask.mean().item())
    result.pairs += 1
    if maps is not None:
        result.maps = maps
