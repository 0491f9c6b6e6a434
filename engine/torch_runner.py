"""PyTorch: a checkpoint's stylizer on a device. Frames in and out are core.frame_io.FRAME_IO:
uint8 (N, H, W, 3) RGB."""
import numpy as np
import torch
from torch import nn

from vst.core.cpu import has_native_bf16
from vst.core.frame_model import frame_model
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer

from .precision import precision_gate


def native_precision(device: torch.device) -> str:
    if device.type == "cuda":
        return "fp16"
    return "bf16" if has_native_bf16() else "fp32"


class TorchRunner:
    """PyTorch on one device in the fastest precision it computes natively: FP16 on CUDA,
    BF16 (autocast, channels_last) on a CPU with BF16 instructions, else FP32. BF16 must pass
    a precision gate on a real frame first, else it falls back to FP32 and says so in
    `notice`. `precision` overrides the choice: "fp16" (CUDA only), "bf16" (CPU only), "fp32"."""

    def __init__(self, stylizer: Stylizer, device: str, precision: str | None = None,
                 mix: StyleMix = StyleMix()):
        self.device, self.mix = torch.device(device), mix
        self.precision = precision or native_precision(self.device)
        self.model = self._build(stylizer)
        self.notice = self._gate(stylizer) if self.precision == "bf16" else None

    def _build(self, stylizer: Stylizer) -> nn.Module:
        model = frame_model(stylizer, "fp16" if self.precision == "fp16" else "fp32", self.mix).to(self.device)
        return model if self.precision == "fp32" else model.to(memory_format=torch.channels_last)

    def _gate(self, stylizer: Stylizer) -> str | None:
        fp32 = TorchRunner(stylizer, "cpu", "fp32", self.mix)
        notice = precision_gate(self, fp32)
        if notice:
            self.precision, self.model = "fp32", fp32.model
            return f"{notice}: running in FP32"
        return None

    @property
    def label(self) -> str:
        return f"PyTorch ({self.device.type.upper()}, {self.precision.upper()})"

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        with torch.autocast("cpu", torch.bfloat16, enabled=self.precision == "bf16"):
            return self.model(torch.from_numpy(frames).to(self.device)).cpu().numpy()
