"""Where the flow between two evaluated frames comes from: estimated on the input frames, or
MPI Sintel's ground truth."""
import re
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from vst.core.errors import InputError
from vst.core.images import read_image
from vst.train.flow import check_flow_method, compute_flow, confidence_mask, read_flo, require_cv2

from .clips import frame_files


class PairFlow(NamedTuple):
    flow: np.ndarray        # float32 (H, W, 2) pixels, frame t -> t+1: x_t(p) ≈ x_t+1(p + flow(p))
    confidence: np.ndarray  # float32 (H, W) in {0, 1} over frame t: 0 where x_t+1 cannot match


class FlowSource(Protocol):
    """Called as source(index, frame, next_frame) for the clip's frames `index` and
    `index + 1` (uint8 (H, W, 3) RGB): their PairFlow, or None where it has no flow for that
    pair (the pair is then left out of the scores)."""
    description: str

    def __call__(self, index: int, frame: np.ndarray, next_frame: np.ndarray) -> PairFlow | None: ...


class EstimatedFlow:
    """OpenCV flow both ways between the input frames, as vst-train computes it, and the
    forward-backward check of Ruder et al. 2016 for occlusions and motion boundaries."""

    def __init__(self, method: str):
        check_flow_method(method)
        require_cv2()
        self.method = method
        self.description = (f"{method.upper()} (OpenCV) on the input frames, occlusions and motion "
                            f"boundaries by forward-backward check (Ruder et al. 2016)")

    def __call__(self, index: int, frame: np.ndarray, next_frame: np.ndarray) -> PairFlow:
        forward = compute_flow(frame, next_frame, self.method)
        backward = compute_flow(next_frame, frame, self.method)
        return PairFlow(forward, confidence_mask(forward, backward))


SINTEL_PASSES = ("clean", "final")
SINTEL_FRAME = re.compile(r"frame_(\d+)\.png")


class SintelFlow:
    """Ground truth for one pass folder training/{clean,final}/<scene>/frame_XXXX.png:
    training/flow/<scene>/frame_XXXX.flo (forward, XXXX -> XXXX+1),
    training/occlusions/<scene>/frame_XXXX.png (white: occluded in XXXX+1) and
    training/invalid/<scene>/frame_XXXX.png (white: no valid flow; optional).
    A pair without its .flo or occlusion file is left out."""

    description = "ground truth (MPI Sintel .flo), Sintel occlusion and invalid masks"

    def __init__(self, folder: Path):
        if folder.parent.name not in SINTEL_PASSES or not folder.is_dir():
            raise InputError(f"{folder}: --gt-flow needs an MPI Sintel pass folder "
                             f"(training/{{clean,final}}/<scene>)")
        training, scene = folder.parents[1], folder.name
        if not (training / "flow" / scene).is_dir():
            raise InputError(f"{folder}: no ground-truth flow at {training / 'flow' / scene}")
        self.flow_dir, self.occlusion_dir, self.invalid_dir = (
            training / kind / scene for kind in ("flow", "occlusions", "invalid"))
        self.numbers = [_frame_number(path) for path in frame_files(folder)]

    def __call__(self, index: int, frame: np.ndarray, next_frame: np.ndarray) -> PairFlow | None:
        number = self.numbers[index]
        name = f"frame_{number:04d}"
        flo, occlusions = self.flow_dir / f"{name}.flo", self.occlusion_dir / f"{name}.png"
        if self.numbers[index + 1] != number + 1 or not flo.is_file() or not occlusions.is_file():
            return None
        flow = read_flo(flo)
        if flow.shape[:2] != frame.shape[:2]:
            raise InputError(f"{flo}: flow is {flow.shape[1]}x{flow.shape[0]}, "
                             f"the frames {frame.shape[1]}x{frame.shape[0]}")
        excluded = _white(occlusions)
        invalid = self.invalid_dir / f"{name}.png"
        if invalid.is_file():
            excluded |= _white(invalid)
        return PairFlow(flow, (~excluded).astype(np.float32))


def _frame_number(path: Path) -> int:
    match = SINTEL_FRAME.fullmatch(path.name)
    if not match:
        raise InputError(f"{path}: not a Sintel frame name (frame_XXXX.png)")
    return int(match.group(1))


def _white(path: Path) -> np.ndarray:
    return read_image(path)[..., 0] > 127
