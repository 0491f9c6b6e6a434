"""Training pairs synthesized from still photos by a random smooth motion with exact flow.

Frame t-1 is a crop of the photo; frame t samples the photo at crop origin + p + F(p), where
F is a random affine motion (about the frame centre) plus a low-frequency deformation. F is
then exactly the backward flow t -> t-1, so warp(prev, F) = cur wherever p + F(p) lies inside
the crop; frame t has real content everywhere because the photo extends past the crop.
"""
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from vst.core.errors import InputError
from vst.core.images import read_image

from .flow import require_cv2
from .frame_pair import FramePair


@dataclass(frozen=True)
class Motion:
    """Bounds of the random motion from frame t to frame t-1 (each drawn uniformly in ±)."""
    shift: float = 0.03          # translation, fraction of frame width / height
    rotation_deg: float = 3.0
    scale: float = 0.03          # per-axis scale change, fraction
    deformation_px: float = 2.0  # amplitude of the smooth non-rigid part, pixels
    deformation_grid: int = 4    # control points per side of the smooth part

    def scaled(self, factor: float) -> "Motion":
        """Translation and deformation times `factor`: factor 4 shifts a 256-wide frame by up
        to ~31 px, as the fast scenes of Sintel move at that size. Rotation and zoom stay:
        scaled alike they would swing the corners of the frame far beyond what video shows."""
        return replace(self, shift=self.shift * factor, deformation_px=self.deformation_px * factor)

    def max_displacement(self, width: int, height: int) -> float:
        """Upper bound on |F(p)| in pixels over a width x height frame."""
        half_diagonal = 0.5 * np.hypot(width, height)
        # bicubic upsampling of the control grid overshoots its values by at most ~1.25x
        return (self.shift * max(width, height) + 1.25 * self.deformation_px
                + (np.deg2rad(self.rotation_deg) + self.scale) * half_diagonal)


class PhotoPairs(Dataset):
    """One FramePair per photo, frames of size = (W, H); the motion and the crop depend only
    on (seed, index), so every epoch sees the same pairs unless the seed changes."""

    def __init__(self, photos: list[Path], size: tuple[int, int], seed: int = 0,
                 motion: Motion = Motion()):
        cv2 = require_cv2()
        self.photos = [Path(photo) for photo in photos]
        for photo in self.photos:
            if not cv2.haveImageReader(str(photo)):  # checks the header only, so it is fast
                raise InputError(f"{photo}: cannot read this image")
        self.size = size
        self.seed = seed
        self.motion = motion

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> FramePair:
        cv2 = require_cv2()
        width, height = self.size
        rng = np.random.default_rng([self.seed, index])
        margin = int(np.ceil(self.motion.max_displacement(width, height))) + 2
        photo = _load_covering(self.photos[index], width + 2 * margin, height + 2 * margin)
        left = int(rng.integers(margin, photo.shape[1] - width - margin + 1))
        top = int(rng.integers(margin, photo.shape[0] - height - margin + 1))

        flow = _random_flow(rng, width, height, self.motion)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        source_x, source_y = xs + flow[..., 0], ys + flow[..., 1]
        cur = cv2.remap(photo, left + source_x, top + source_y, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT_101)
        prev = photo[top:top + height, left:left + width]
        inside = ((source_x >= 0) & (source_x <= width - 1)
                  & (source_y >= 0) & (source_y <= height - 1))
        return FramePair(_to_chw(prev), _to_chw(cur), _to_chw(flow),
                         torch.from_numpy(inside.astype(np.float32))[None])


def _to_chw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def _load_covering(path: Path, width: int, height: int) -> np.ndarray:
    """float32 RGB (h, w, 3) in [0, 1], the photo scaled so that h >= height and w >= width."""
    cv2 = require_cv2()
    rgb = read_image(path)
    scale = max(width / rgb.shape[1], height / rgb.shape[0])
    size = (max(width, round(rgb.shape[1] * scale)), max(height, round(rgb.shape[0] * scale)))
    # linear, not cubic, when enlarging: cubic overshoots out of [0, 1]
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return resized.astype(np.float32) / 255.0


def _random_flow(rng: np.random.Generator, width: int, height: int, motion: Motion) -> np.ndarray:
    """(H, W, 2) float32 pixels: affine motion about the frame centre plus a smooth deformation."""
    cv2 = require_cv2()
    angle = np.deg2rad(rng.uniform(-1, 1) * motion.rotation_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotation @ np.diag(1 + rng.uniform(-1, 1, 2) * motion.scale)
    shift = rng.uniform(-1, 1, 2) * motion.shift * np.array([width, height])

    ys, xs = np.mgrid[0:height, 0:width]
    centred = np.stack((xs - (width - 1) / 2, ys - (height - 1) / 2), axis=-1)
    affine = centred @ (linear - np.eye(2)).T + shift
    grid = motion.deformation_grid
    control = rng.uniform(-1, 1, (grid, grid, 2)).astype(np.float32) * motion.deformation_px
    smooth = cv2.resize(control, (width, height), interpolation=cv2.INTER_CUBIC)
    return (affine + smooth).astype(np.float32)
