"""The stylizer behind one interface, whatever runs it: a callable taking uint8
(1, H, W, 3) RGB frames and returning the same (export.frame_model.FRAME_IO).

  NAME.plan  TensorRT through pycuda (NVIDIA GPU)
  NAME.onnx  ONNX Runtime, CUDA provider when present, else CPU
  NAME.pt    PyTorch: CUDA in FP16, else CPU in BF16 where it has BF16 instructions, else FP32
  --style    a shipped checkpoint through PyTorch
"""
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from vst.export.frame_model import frame_model
from vst.train.checkpoint import Checkpoint
from vst.train.errors import InputError
from vst.train.shipped import shipped_checkpoint
from vst.train.stylizer import Stylizer

from .cpu import has_native_bf16
from .precision import precision_gate


def native_precision(device: torch.device) -> str:
    if device.type == "cuda":
        return "fp16"
    return "bf16" if has_native_bf16() else "fp32"


class TorchStylizer:
    """PyTorch on one device in the fastest precision it computes natively: FP16 on CUDA,
    BF16 (autocast, channels_last) on a CPU with BF16 instructions, else FP32. BF16 must pass
    a precision gate on a real frame first, else it falls back to FP32 and says so in
    `notice`. `precision` overrides the choice: "fp16" (CUDA only), "bf16" (CPU only), "fp32"."""

    def __init__(self, stylizer: Stylizer, device: str, precision: str | None = None):
        self.device = torch.device(device)
        self.precision = precision or native_precision(self.device)
        self.model = self._build(stylizer)
        self.notice = self._gate(stylizer) if self.precision == "bf16" else None

    def _build(self, stylizer: Stylizer) -> nn.Module:
        model = frame_model(stylizer, "fp16" if self.precision == "fp16" else "fp32").to(self.device)
        return model if self.precision == "fp32" else model.to(memory_format=torch.channels_last)

    def _gate(self, stylizer: Stylizer) -> str | None:
        fp32 = TorchStylizer(stylizer, "cpu", "fp32")
        notice = precision_gate(self, fp32)
        if notice:
            self.precision, self.model = "fp32", fp32.model
        return notice

    @property
    def label(self) -> str:
        return f"PyTorch ({self.device.type.upper()}, {self.precision.upper()})"

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        with torch.autocast("cpu", torch.bfloat16, enabled=self.precision == "bf16"):
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
    notice: str | None = None                   # one line for the user, e.g. a precision fallback


def torch_backend(path: Path) -> Backend:
    checkpoint = Checkpoint.load(path)
    stylizer = TorchStylizer(checkpoint.stylizer, "cuda" if torch.cuda.is_available() else "cpu")
    return Backend(stylizer.label, checkpoint.style, stylizer, notice=stylizer.notice)


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
                   runner.close, runner.warning)


BACKENDS = {".plan": tensorrt_backend, ".onnx": onnx_backend, ".pt": torch_backend}


@contextmanager
def opened_backend(engine: Path | None, style: str | None,
                   tell: Callable[[str], None]) -> Iterator[Backend]:
    """open_backend, its notice (if any) passed to tell(), closed on the way out."""
    backend = open_backend(engine, style)
    if backend.notice:
        tell(backend.notice)
    try:
        yield backend
    finally:
        backend.close()


def open_backend(engine: Path | None, style: str | None) -> Backend:
    if style is not None:
        return torch_backend(shipped_checkpoint(style))
    if not engine.is_file():
        raise InputError(f"{engine}: no such engine file")
    opener = BACKENDS.get(engine.suffix)
    if opener is None:
        raise InputError(f"{engine}: unknown engine type; give a .plan, .onnx or .pt file")
    return opener(engine)
