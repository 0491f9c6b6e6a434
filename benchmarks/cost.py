"""What one frame costs a model, counted from the model itself: the floor under any backend.

FLOPs are torch.utils.flop_counter's (2 per multiply-add of every convolution; norms, pads
and ReLUs are a few operations per value and left out). Bytes are counted at a precision:
`min_bytes` is what must move at least once (the uint8 frame in and out, and the weights),
`layer_bytes` what moves when each convolution reads its input and writes its output once
from memory (norms, pads and ReLUs fused into them), as layer-by-layer execution does when
activations outgrow the caches.
"""
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from vst.core.stylizer import Stylizer

BYTES_PER_VALUE = {"fp32": 4, "fp16": 2, "bf16": 2}


@dataclass(frozen=True)
class ModelCost:
    width: int              # 48 = 353-Res48, 128 = 353-Res128
    frame: tuple[int, int]  # (width, height) in pixels
    flops: int
    parameters: int
    frame_bytes: int        # uint8 RGB frame in + out
    conv_values: int        # activations every convolution reads and writes

    def min_bytes(self, precision: str) -> int:
        return self.frame_bytes + self.parameters * BYTES_PER_VALUE[precision]

    def layer_bytes(self, precision: str) -> int:
        return self.frame_bytes + (self.parameters + self.conv_values) * BYTES_PER_VALUE[precision]

    def as_record(self) -> dict:
        return {"width": self.width, "frame": list(self.frame), "flops": self.flops,
                "parameters": self.parameters, "frame_bytes": self.frame_bytes,
                **{f"min_bytes_{p}": self.min_bytes(p) for p in ("fp32", "fp16")},
                **{f"layer_bytes_{p}": self.layer_bytes(p) for p in ("fp32", "fp16")}}


def count_flops(module: nn.Module, *inputs: torch.Tensor) -> int:
    """FLOPs of one forward pass (2 per multiply-add of convolutions and matmuls)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*inputs)
    return counter.get_total_flops()


def model_cost(stylizer: Stylizer, width: int, height: int) -> ModelCost:
    """The cost of one width x height RGB frame through `stylizer`, in (N, 3, H, W) [0, 1]."""
    values = 0

    def count_io(module, args, output):
        nonlocal values
        values += args[0].numel() + output.numel()

    convs = [m for m in stylizer.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    hooks = [conv.register_forward_hook(count_io) for conv in convs]
    try:
        flops = count_flops(stylizer, torch.rand(1, 3, height, width))
    finally:
        for hook in hooks:
            hook.remove()
    return ModelCost(stylizer.width, (width, height), flops,
                     sum(p.numel() for p in stylizer.parameters()), 2 * 3 * width * height, values)
