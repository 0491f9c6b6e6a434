"""The stylizer behind one interface, whatever runs it: a callable taking uint8
(1, H, W, 3) RGB frames and returning the same (export.frame_model.FRAME_IO).

  NAME.plan  TensorRT through pycuda (NVIDIA GPU)
  NAME.onnx  ONNX Runtime, CUDA provider when present, else CPU
  NAME.pt    PyTorch, CUDA in FP16 when present, else CPU in FP32
  --style    a shipped checkpoint through PyTorch
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from vst.export.frame_model import frame_model
from vst.train.checkpoint import Checkpoint
from vst.train.errors import InputError
from vst.train.shipped import shipped_checkpoint


class TorchStylizer:
    def __init__(self, checkpoint: Checkpoint, device: str):
        self.device = torch.device(device)
        cuda = self.device.type == "cuda"
        self.model = frame_model(checkpoint.stylizer, "fp16" if cuda else "fp32").to(self.device)
        if cuda:
            self.model = self.model.to(memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.model(torch.from_numpy(frames).to(self.device)).cpu().numpy()


@dataclass
class Backend:
    """submit(frames) starts a frame, collect(what submit returned) gives its output; up to
    `depth` frames may be in flight. Synchronous backends compute in submit (depth 1)."""
    name: str                                   # "TensorRT", "ONNX Runtime (CPU)", ...
    style: str
    submit: Callable[[np.ndarray], object]
    collect: Callable[[object], np.ndarray] = lambda result: result
    depth: int = 1
    close: Callable[[], None] = lambda: None


def torch_backend(path: Path) -> Backend:
    checkpoint = Checkpoint.load(path)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    label = "PyTorch (CUDA, FP16)" if device == "cuda" else "PyTorch (CPU, FP32)"
    return Backend(label, checkpoint.style, TorchStylizer(checkpoint, device))


def onnx_backend(path: Path) -> Backend:
    try:
        import onnxruntime as ort
        from vst.export.onnx_export import OnnxRunner, read_onnx_metadata
    except ImportError:
        raise InputError(f"{path}: ONNX Runtime is not installed (pip install 'vst[export]')") from None
    metadata = read_onnx_metadata(path)
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else None
    return Backend(f"ONNX Runtime ({'CUDA' if cuda else 'CPU'})", metadata.style,
                   OnnxRunner(path, providers))


def tensorrt_backend(path: Path) -> Backend:
    from .trt_runner import TrtRunner

    runner = TrtRunner(path)
    return Backend("TensorRT", runner.metadata.style, runner.submit, runner.collect, runner.depth,
                   runner.close)


BACKENDS = {".plan": tensorrt_backend, ".onnx": onnx_backend, ".pt": torch_backend}


def open_backend(engine: Path | None, style: str | None) -> Backend:
    if style is not None:
        return torch_backend(shipped_checkpoint(style))
    if not engine.is_file():
        raise InputError(f"{engine}: no such engine file")
    opener = BACKENDS.get(engine.suffix)
    if opener is None:
        raise InputError(f"{engine}: unknown engine type; give a .plan, .onnx or .pt file")
    return opener(engine)
