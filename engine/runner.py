"""A model opened on a backend, behind one interface: `Runner`, whose submit/collect take
uint8 (1, H, W, 3) RGB frames and give the same (core.frame_io.FRAME_IO).

  backend       runs                                               runner
  tensorrt      NAME.plan through pycuda (NVIDIA GPU)              TrtRunner
  openvino      NAME.onnx, or a checkpoint converted directly;     OpenVinoRunner
                CPU, BF16 where OpenVINO reports it (gated), else FP32
  onnxruntime   NAME.onnx, or a checkpoint exported in memory;     OnnxRunner
                CUDA provider when present, else CPU
  torch         a checkpoint: CUDA in FP16, else CPU in BF16 where TorchRunner
                it has BF16 instructions (gated), else FP32

Which backend runs a model is engine.choice's rule (vst-run --backend, default auto); a
shipped style (--style NAME) runs its NAME.onnx on OpenVINO and ONNX Runtime, so that only
the torch backend needs torch. The style mix (--strength, --preserve-color) runs inside the
model's graph: traced or exported with it for a checkpoint, appended to a .onnx's graph on
OpenVINO and ONNX Runtime; a .plan takes the mix it was built with (vst-export).
"""
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from vst.core.errors import InputError
from vst.core.metadata import ArtifactMetadata, read_onnx_metadata
from vst.core.style_mix import StyleMix
from vst.styles import shipped_model

from .choice import KINDS, choose_backend, onnxruntime_has_cuda


@dataclass
class Runner:
    """submit(frames) starts a frame, collect(what submit returned) gives its output; up to
    `depth` frames may be in flight. Synchronous runners compute in submit (depth 1)."""
    name: str                                   # "TensorRT", "ONNX Runtime (CPU)", ...
    style: str
    submit: Callable[[np.ndarray], object]
    collect: Callable[[object], np.ndarray] = lambda result: result
    depth: int = 1
    close: Callable[[], None] = lambda: None
    notice: str | None = None                   # one line for the user, e.g. a precision fallback


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


def checkpoint_on_torch(path: Path, mix: StyleMix) -> Runner:
    import torch

    from vst.core.checkpoint import Checkpoint

    from .torch_runner import TorchRunner

    checkpoint = Checkpoint.load(path)
    runner = TorchRunner(checkpoint.stylizer, "cuda" if torch.cuda.is_available() else "cpu", mix=mix)
    return Runner(runner.label, checkpoint.style, runner, notice=runner.notice)


def onnx_model_on_onnxruntime(model: Path | bytes, style: str, mix: StyleMix = StyleMix()) -> Runner:
    """An ONNX model (a path or its bytes) on ONNX Runtime, CUDA provider when present."""
    from .onnx_runner import OnnxRunner

    cuda = onnxruntime_has_cuda()
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else None
    return Runner(f"ONNX Runtime ({'CUDA' if cuda else 'CPU'})", style, OnnxRunner(model, providers, mix))


def onnx_on_onnxruntime(path: Path, mix: StyleMix) -> Runner:
    metadata = read_onnx_metadata(path)
    return onnx_model_on_onnxruntime(path, metadata.style, mix_to_add(path, metadata, mix, can_add=True))


def checkpoint_on_onnxruntime(path: Path, mix: StyleMix) -> Runner:
    """The checkpoint's FrameModel (FP32, with the mix) as ONNX in memory, on ONNX Runtime."""
    from vst.core.checkpoint import Checkpoint
    from vst.core.onnx_graph import OPSET, stylizer_to_onnx

    checkpoint = Checkpoint.load(path)
    proto = stylizer_to_onnx(checkpoint.stylizer, "fp32", mix, OPSET)
    return onnx_model_on_onnxruntime(proto.SerializeToString(), checkpoint.style)


def openvino_graphs_runner(graphs, style: str) -> Runner:
    from .openvino_runner import OpenVinoRunner

    runner = OpenVinoRunner(graphs)
    return Runner(runner.label, style, runner, notice=runner.notice)


def onnx_on_openvino(path: Path, mix: StyleMix) -> Runner:
    from .openvino_runner import fixed_shape_graphs, read_vst_onnx, with_mix

    graph, metadata = read_vst_onnx(path)
    graph = with_mix(graph, mix_to_add(path, metadata, mix, can_add=True))
    return openvino_graphs_runner(fixed_shape_graphs(graph), metadata.style)


def checkpoint_on_openvino(path: Path, mix: StyleMix) -> Runner:
    from vst.core.checkpoint import Checkpoint

    from .openvino_runner import torch_graphs

    checkpoint = Checkpoint.load(path)
    return openvino_graphs_runner(torch_graphs(checkpoint.stylizer, mix), checkpoint.style)


def plan_on_tensorrt(path: Path, mix: StyleMix) -> Runner:
    from .tensorrt_runner import TrtRunner

    runner = TrtRunner(path)
    try:
        mix_to_add(path, runner.metadata, mix, can_add=False)
    except InputError:
        runner.close()
        raise
    return Runner("TensorRT", runner.metadata.style, runner.submit, runner.collect, runner.depth,
                  runner.close, runner.warning)


OPENERS = {  # (kind of model, backend) -> opener of a model file
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
    backend: str = "auto"
    mix: StyleMix = StyleMix()

    def open(self) -> Runner:
        return open_runner(self.engine, self.style, self.backend, self.mix)


@contextmanager
def opened_runner(engine: Path | None, style: str | None, tell: Callable[[str], None],
                  backend: str = "auto", mix: StyleMix = StyleMix()) -> Iterator[Runner]:
    """open_runner, its notice (if any) passed to tell(), closed on the way out."""
    runner = open_runner(engine, style, backend, mix)
    if runner.notice:
        tell(runner.notice)
    try:
        yield runner
    finally:
        runner.close()


def open_runner(engine: Path | None, style: str | None, backend: str = "auto",
                mix: StyleMix = StyleMix()) -> Runner:
    """--engine FILE or --style NAME (a shipped style: NAME.pt on torch, NAME.onnx on the others) on `backend`: "auto" or one of
    engine.choice.BACKENDS, as vst-run's --backend names them, with the style mix."""
    if style is not None:
        backend = choose_backend("style", f"--style {style}", backend)
        path = shipped_model(style, ".pt" if backend == "torch" else ".onnx")
        return OPENERS[KINDS[path.suffix], backend](path, mix)
    if not engine.is_file():
        raise InputError(f"{engine}: no such engine file")
    kind = KINDS.get(engine.suffix)
    if kind is None:
        raise InputError(f"{engine}: unknown engine type; give a .plan, .onnx or .pt file")
    return OPENERS[kind, choose_backend(kind, str(engine), backend)](engine, mix)
