"""The stylizer behind one interface, whatever runs it: a callable taking uint8
(1, H, W, 3) RGB frames and returning the same (export.frame_model.FRAME_IO).

  TensorRT      NAME.plan through pycuda (NVIDIA GPU)
  OpenVINO      NAME.onnx, or a checkpoint converted directly; CPU, BF16 where OpenVINO
                reports it (gated), else FP32
  ONNX Runtime  NAME.onnx, or a checkpoint exported in memory; CUDA provider when present, else CPU
  PyTorch       a checkpoint: CUDA in FP16, else CPU in BF16 where it has BF16 instructions
                (gated), else FP32

Which one runs a model is engine.choice's rule (vst-run --backend, default auto). The style
mix (--strength, --preserve-color) runs inside the model's graph: traced or exported with it
for a checkpoint, appended to a .onnx on ONNX Runtime; for a .onnx on OpenVINO (a CPU) it runs
after the graph, on the same CPU; a .plan takes the mix it was built with (vst-export).
"""
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from vst.core.checkpoint import Checkpoint
from vst.core.cpu import has_native_bf16
from vst.core.errors import InputError
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer
from vst.export.frame_model import MixModel, frame_model
from vst.export.metadata import ArtifactMetadata
from vst.styles import shipped_checkpoint

from .choice import KINDS, choose_runtime, onnxruntime_has_cuda
from .openvino_runner import Graphs, OpenVinoStylizer, fixed_shape_graphs, read_vst_onnx, torch_graphs
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
        fp32 = TorchStylizer(stylizer, "cpu", "fp32", self.mix)
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


class HostMix:
    """A CPU backend's output mixed on the same CPU (MixModel): for a graph that has no mix."""

    def __init__(self, stylize: Callable[[np.ndarray], np.ndarray], mix: StyleMix):
        self.stylize, self.model = stylize, MixModel(mix)

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.model(torch.from_numpy(frames), torch.from_numpy(self.stylize(frames))).numpy()


def mix_to_add(path: Path, metadata: ArtifactMetadata, asked: StyleMix, can_add: bool) -> StyleMix:
    """The mix still to apply to an exported model built with metadata.style_mix, when the
    user asks for `asked`; InputError where it cannot be had."""
    built = metadata.style_mix
    if asked.is_plain or asked == built:
        return StyleMix()
    if built.is_plain and can_add:
        return asked
    flags = f"--strength {asked.strength:g}" + (" --preserve-color" if asked.preserve_color else "")
    described = f"strength {built.strength:g}" + (", preserve-color" if built.preserve_color else "")
    why = "a plan cannot change its graph" if path.suffix == ".plan" else "it would be mixed twice"
    raise InputError(f"{path}: built with the style mix {described} ({why}); for another, export "
                     f"the checkpoint again: vst-export CHECKPOINT --fp16 {flags}")


def checkpoint_on_torch(path: Path, mix: StyleMix) -> Backend:
    checkpoint = Checkpoint.load(path)
    stylizer = TorchStylizer(checkpoint.stylizer, "cuda" if torch.cuda.is_available() else "cpu", mix=mix)
    return Backend(stylizer.label, checkpoint.style, stylizer, notice=stylizer.notice)


def onnxruntime_backend(model: Path | bytes, style: str, mix: StyleMix = StyleMix()) -> Backend:
    """An ONNX model (a path or its bytes) on ONNX Runtime, CUDA provider when present."""
    from vst.export.onnx_export import OnnxRunner

    cuda = onnxruntime_has_cuda()
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else None
    return Backend(f"ONNX Runtime ({'CUDA' if cuda else 'CPU'})", style, OnnxRunner(model, providers, mix))


def onnx_on_onnxruntime(path: Path, mix: StyleMix) -> Backend:
    from vst.export.onnx_export import read_onnx_metadata

    metadata = read_onnx_metadata(path)
    return onnxruntime_backend(path, metadata.style, mix_to_add(path, metadata, mix, can_add=True))


def checkpoint_on_onnxruntime(path: Path, mix: StyleMix) -> Backend:
    """The checkpoint exported to ONNX in memory (FP32, as vst-export writes it), with the mix."""
    from vst.export.onnx_export import OPSET, export_onnx

    checkpoint = Checkpoint.load(path)
    stylizer = checkpoint.stylizer
    metadata = ArtifactMetadata(checkpoint.style, stylizer.width, stylizer.upsample, "fp32", OPSET,
                                mix=mix.as_record())
    return onnxruntime_backend(export_onnx(stylizer, metadata), checkpoint.style)


def openvino_backend(graphs: Graphs, style: str, host_mix: StyleMix = StyleMix()) -> Backend:
    stylizer = OpenVinoStylizer(graphs)
    run = stylizer if host_mix.is_plain else HostMix(stylizer, host_mix)
    return Backend(stylizer.label, style, run, notice=stylizer.notice)


def onnx_on_openvino(path: Path, mix: StyleMix) -> Backend:
    graph, metadata = read_vst_onnx(path)
    return openvino_backend(fixed_shape_graphs(graph), metadata.style,
                            mix_to_add(path, metadata, mix, can_add=True))


def checkpoint_on_openvino(path: Path, mix: StyleMix) -> Backend:
    checkpoint = Checkpoint.load(path)
    return openvino_backend(torch_graphs(checkpoint.stylizer, mix), checkpoint.style)


def plan_on_tensorrt(path: Path, mix: StyleMix) -> Backend:
    from vst.export.tensorrt_runner import TrtRunner

    runner = TrtRunner(path)
    try:
        mix_to_add(path, runner.metadata, mix, can_add=False)
    except InputError:
        runner.close()
        raise
    return Backend("TensorRT", runner.metadata.style, runner.submit, runner.collect, runner.depth,
                   runner.close, runner.warning)


OPENERS = {  # (kind of model, runtime) -> opener of a model file
    ("plan", "tensorrt"): plan_on_tensorrt,
    ("onnx", "openvino"): onnx_on_openvino,
    ("onnx", "onnxruntime"): onnx_on_onnxruntime,
    ("checkpoint", "torch"): checkpoint_on_torch,
    ("checkpoint", "openvino"): checkpoint_on_openvino,
    ("checkpoint", "onnxruntime"): checkpoint_on_onnxruntime,
}


@dataclass(frozen=True)
class ModelSpec:
    """A model as vst-run names it (--engine FILE or --style NAME, --backend, the style mix):
    what each worker of a batch opens for itself."""
    engine: Path | None
    style: str | None
    runtime: str = "auto"
    mix: StyleMix = StyleMix()

    def open(self) -> Backend:
        return open_backend(self.engine, self.style, self.runtime, self.mix)


@contextmanager
def opened_backend(engine: Path | None, style: str | None, tell: Callable[[str], None],
                   runtime: str = "auto", mix: StyleMix = StyleMix()) -> Iterator[Backend]:
    """open_backend, its notice (if any) passed to tell(), closed on the way out."""
    backend = open_backend(engine, style, runtime, mix)
    if backend.notice:
        tell(backend.notice)
    try:
        yield backend
    finally:
        backend.close()


def open_backend(engine: Path | None, style: str | None, runtime: str = "auto",
                 mix: StyleMix = StyleMix()) -> Backend:
    """--engine FILE or --style NAME (a shipped checkpoint) on `runtime`: "auto" or one of
    engine.choice.RUNTIMES, as vst-run's --backend names them, with the style mix."""
    if style is not None:
        path, model = shipped_checkpoint(style), f"--style {style}"
    elif not engine.is_file():
        raise InputError(f"{engine}: no such engine file")
    else:
        path, model = engine, str(engine)
    kind = KINDS.get(path.suffix)
    if kind is None:
        raise InputError(f"{engine}: unknown engine type; give a .plan, .onnx or .pt file")
    return OPENERS[kind, choose_runtime(kind, model, runtime)](path, mix)
