"""Optical flow between two frames (OpenCV DIS or DeepFlow), the Ruder et al. 2016
confidence mask, and the Middlebury/Sintel .flo file format.

Flows here are numpy float32 (H, W, 2) in pixels, channel 0 = dx (right), 1 = dy (down).
`compute_flow(src, dst)` returns F with src(p) ≈ dst(p + F(p)): the flow `warp` needs to
bring dst onto src. For training pairs src is frame t and dst frame t-1 (the backward flow).
cv2 is imported inside the functions so the rest of vst imports without it.
"""
from pathlib import Path

import numpy as np
import torch

from vst.core.errors import InputError

from .warp import warp

FLOW_METHODS = ("dis", "deepflow")
FLO_MAGIC = np.float32(202021.25)

_INSTALL_HINT = "pip install opencv-contrib-python-headless"


def check_flow_method(method: str) -> None:
    if method not in FLOW_METHODS:
        raise InputError(f"unknown flow method {method!r}; choose one of {', '.join(FLOW_METHODS)}")


def require_cv2():
    """The cv2 module, or an InputError telling how to install it."""
    try:
        import cv2
    except ImportError:
        raise InputError(f"optical flow needs OpenCV: {_INSTALL_HINT}") from None
    return cv2


def _flow_engine(cv2, method: str):
    if method == "dis":
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    if not hasattr(cv2, "optflow") or not hasattr(cv2.optflow, "createOptFlow_DeepFlow"):
        raise InputError(f"DeepFlow needs the contrib build of OpenCV: {_INSTALL_HINT} "
                         "(uninstall opencv-python / opencv-python-headless first)")
    return cv2.optflow.createOptFlow_DeepFlow()


def compute_flow(src: np.ndarray, dst: np.ndarray, method: str = "dis") -> np.ndarray:
    """Flow F (H, W, 2) float32 with src(p) ≈ dst(p + F(p)).

    src, dst: uint8 RGB (H, W, 3). The backward flow t -> t-1 is compute_flow(cur, prev).
    """
    check_flow_method(method)
    cv2 = require_cv2()
    src_gray = cv2.cvtColor(np.ascontiguousarray(src), cv2.COLOR_RGB2GRAY)
    dst_gray = cv2.cvtColor(np.ascontiguousarray(dst), cv2.COLOR_RGB2GRAY)
    # OpenCV's calc(prev, next) gives prev(p) ≈ next(p + F(p)), i.e. prev = src, next = dst
    flow = _flow_engine(cv2, method).calc(src_gray, dst_gray, None)
    return flow.astype(np.float32, copy=False)


def confidence_mask(flow: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """Where frame b warped onto frame a can be trusted (Ruder et al. 2016, eq. 4-5).

    flow: a -> b (a(p) ≈ b(p + flow(p)), as compute_flow(a, b)) and reverse: b -> a, both
    (H, W, 2) float32 pixels; in training a is frame t and b frame t-1. Returns (H, W) float32
    for frame a: 0 at disocclusions (flow and reverse flow do not cancel), at motion
    boundaries and where p + flow(p) leaves the frame; 1 elsewhere.
    """
    reverse_at_target, inside = warp(_to_tensor(reverse), _to_tensor(flow))
    reverse_at_target = reverse_at_target[0].permute(1, 2, 0).numpy()
    inside = inside[0, 0].numpy() > 0

    disoccluded = (_squared_norm(reverse_at_target + flow)
                   > 0.01 * (_squared_norm(reverse_at_target) + _squared_norm(flow)) + 0.5)
    grad_y, grad_x = np.gradient(flow, axis=(0, 1))  # central differences, per channel
    boundary = (_squared_norm(grad_x) + _squared_norm(grad_y)
                > 0.01 * _squared_norm(flow) + 0.002)
    return (inside & ~disoccluded & ~boundary).astype(np.float32)


def _to_tensor(flow: np.ndarray) -> torch.Tensor:
    """(H, W, 2) numpy -> (1, 2, H, W) float32 tensor, the layout `warp` takes."""
    return torch.from_numpy(np.ascontiguousarray(flow, np.float32)).permute(2, 0, 1)[None]


def _squared_norm(vectors: np.ndarray) -> np.ndarray:
    return (vectors ** 2).sum(axis=-1)


def read_flo(path: Path) -> np.ndarray:
    """Read a Middlebury/Sintel .flo file as (H, W, 2) float32. The file must be exactly the
    size its header announces: 12 bytes of header, then W * H * 2 little-endian float32."""
    path = Path(path)
    with open(path, "rb") as file:
        magic = np.fromfile(file, "<f4", 1)
        if magic.size != 1 or magic[0] != FLO_MAGIC:
            raise InputError(f"{path}: not a .flo file (bad magic number)")
        size = np.fromfile(file, "<i4", 2)
        width, height = (int(v) for v in size) if size.size == 2 else (-1, -1)
        expected = 12 + 8 * width * height
        if width < 1 or height < 1 or path.stat().st_size != expected:
            raise InputError(f"{path}: {path.stat().st_size} bytes, but its header says {width}x{height} "
                             f"({max(expected, 0)} bytes)")
        data = np.fromfile(file, "<f4", width * height * 2)
    return data.reshape(height, width, 2).astype(np.float32, copy=False)
