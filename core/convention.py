"""How frames travel inside the torch code (stylizer, losses, training, the PyTorch runner);
exported graphs and runners take uint8 frames instead (core.frame_io.FRAME_IO).

Frames cross module boundaries as float32 tensors of shape (N, 3, H, W), channel order RGB,
values in [0, 1]. The stylizer takes and returns this; the loss network converts it to
whatever its weights expect; decoders hand out uint8 (H, W, 3) RGB arrays that
`frames_to_tensor` turns into it.
"""
import numpy as np
import torch

from .frame_io import FrameConvention

FRAMES = FrameConvention("NCHW", "RGB", "float32", (0.0, 1.0))


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 RGB (H, W, 3) or (N, H, W, 3) -> float32 (N, 3, H, W) in [0, 1]."""
    if frames.ndim == 3:
        frames = frames[None]
    # torch.tensor copies, so read-only (memory-mapped) arrays are fine
    return torch.tensor(frames).permute(0, 3, 1, 2).float().div_(255.0)


def tensor_to_frames(tensor: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [0, 1] -> uint8 RGB (N, H, W, 3), rounded and clipped."""
    return (tensor.detach().float().clamp(0, 1).mul(255).round().byte()
            .permute(0, 2, 3, 1).cpu().numpy())
