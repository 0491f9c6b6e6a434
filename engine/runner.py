"""A model opened on a backend, behind one interface: `Runner`, whose submit/collect take
uint8 (1, H, W, 3) RGB frames and give the same (core.frame_io.FRAME_IO).

  backend       runs                                               runner
  tensorrt      NAME.plan through pycuda (NVIDIA GPU)              TrtRunner
  openvino      NAME.onnx, or a checkpoint converted directly;     OpenVinoRunner
                CPU, by default the fastest precision this CPU has
                that passes the gate: INT8 (ONNX models, NNCF), BF16,
                FP32 (--precision picks one)
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

from .choice import BACKENDS, KINDS, choose_backend, onnxruntime_has_cuda
from .openvino_runner import PRECISIONS


@dataclass
class Runner:
    """submit(frames) starts a frame, collect(what submit returned) gives its output; up to
    `depth` frames may be in flight: a video's path. Synchronous runners compute in submit
    (depth 1). Calling it stylizes one frame now, in the form fastest for one frame alone
    (`alone`, where the backend has one: stills, previews, the API)."""
    name: str                                   # "TensorRT", "ONNX Runtime (CPU)", ...
    style: str
    submit: Callable[[np.ndarray], object]
    collect: Callable[[object], np.ndarray] = lambda result: result
    depth: int = 1
    close: Callable[[], None] = lambda: None
    notice: str | None = None                   # one line for the user, e.g. a precision fallback
    on_gpu: bool = False                        # else it shares the CPU cores with the encoder
    alone: Callable[[np.ndarray], np.ndarray] | None = None

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.alone(frames) if self.alone else self.collect(self.submit(frames))


def mix_to_add(path: Path, metadata: ArtifactMetadata, asked: StyleMix, can_add: bool) -> StyleMix:
    """The mix still to apply to an exported model built with metadata.mix, when the
    user asks for `asked`; InputError where it cannot be had."""
    built = metadata.mix
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
    cuda = torch.cuda.is_available()
    runner = TorchRunner(checkpoint.stylizer, "cuda" if cuda else "cpu", mix=mix)
    return Runner(runner.label, checkpoint.style, runner, notice=runner.notice, on_gpu=cuda)


def onnx_model_on_onnxruntime(model: Path | bytes, style: str, mix: StyleMix = StyleMix()) -> Runner:
    """An ONNX model (a path or its bytes) on ONNX Runtime, CUDA provider when present."""
    from vst.core.onnx_runner import OnnxRunner

    cuda = onnxruntime_has_cuda()
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else None
    return Runner(f"ONNX Runtime ({'CUDA' if cuda else 'CPU'})", style, OnnxRunner(model, providers, mix),
                  on_gpu=cuda)


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


def openvino_runner(runner, style: str) -> Runner:
    """An OpenVinoRunner as a video's Runner: frames in flight, in streams of their own."""
    return Runner(runner.label, style, runner.submit, runner.collect, runner.depth, notice=runner.notice,
                  alone=runner)


def openvino_on_onnx(path: Path, mix: StyleMix = StyleMix(), precision: str = "auto"):
    """An exported ONNX model's OpenVinoRunner and metadata. Its INT8 graph (engine.int8) is
    used when asked for, or by "auto" on a CPU with INT8 dot products where one ships beside
    the ONNX, was made before, or NNCF can make it."""
    from vst.core.cpu import has_native_int8

    from .int8 import beside, int8_graph, onnx_key
    from .openvino_runner import OpenVinoRunner, fixed_shape_graphs, openvino_cache, read_vst_onnx, with_mix

    graph, metadata = read_vst_onnx(path)
    added = mix_to_add(path, metadata, mix, can_add=True)
    int8_graphs, why_not = None, None
    if precision == "int8" or (precision == "auto" and has_native_int8()):
        try:  # quantized before the mix is added: one INT8 graph for every mix
            quantized = int8_graph(graph, onnx_key(path.read_bytes()), openvino_cache() / "int8", beside(path))
            int8_graphs = fixed_shape_graphs(with_mix(quantized, added))
        except InputError as exc:  # none made, and no NNCF to make it
            why_not = str(exc)
        except Exception as exc:  # noqa: BLE001 - NNCF or OpenVINO failing on a graph, a cache unwritable
            why_not = f"INT8 could not be made for {path.name} ({type(exc).__name__}: {exc})"
        if why_not and precision == "int8":
            raise InputError(why_not)
    return OpenVinoRunner(fixed_shape_graphs(with_mix(graph, added)), precision, int8_graphs, why_not), metadata


def onnx_on_openvino(path: Path, mix: StyleMix, precision: str = "auto") -> Runner:
    runner, metadata = openvino_on_onnx(path, mix, precision)
    return openvino_runner(runner, metadata.style)


def checkpoint_on_openvino(path: Path, mix: StyleMix, precision: str = "auto") -> Runner:
    from vst.core.checkpoint import Checkpoint

    from .openvino_runner import OpenVinoRunner, torch_graphs

    if precision == "int8":
        raise InputError(f"{path}: INT8 runs ONNX models; export it first: vst-export {path}")
    checkpoint = Checkpoint.load(path)
    return openvino_runner(OpenVinoRunner(torch_graphs(checkpoint.stylizer, mix), precision), checkpoint.style)


def plan_on_tensorrt(path: Path, mix: StyleMix) -> Runner:
    from vst.core.tensorrt_runner import TrtRunner

    runner = TrtRunner(path)
    try:
        mix_to_add(path, runner.metadata, mix, can_add=False)
    except InputError:
        runner.close()
        raise
    return Runner("TensorRT", runner.metadata.style, runner.submit, runner.collect, runner.depth,
                  runner.close, runner.warning, on_gpu=True)


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
    precision: str = "auto"

    def open(self) -> Runner:
        return open_runner(self.engine, self.style, self.backend, self.mix, self.precision)

    @property
    def name(self) -> str:
        """What names the outputs (STEM.NAME.mp4): the style, or the model file's stem as the
        user sees it (a renamed copy of a model names its own outputs; "candy.plan" is candy)."""
        return self.style or self.engine.stem


@contextmanager
def opened_runner(engine: Path | None, style: str | None, tell: Callable[[str], None],
                  backend: str = "auto", mix: StyleMix = StyleMix(), precision: str = "auto") -> Iterator[Runner]:
    """open_runner, its notice (if any) passed to tell(), closed on the way out."""
    runner = open_runner(engine, style, backend, mix, precision)
    if runner.notice:
        tell(runner.notice)
    try:
        yield runner
    finally:
        runner.close()


def open_runner(engine: Path | None, style: str | None, backend: str = "auto",
                mix: StyleMix = StyleMix(), precision: str = "auto") -> Runner:
    """--engine FILE or --style NAME (a shipped style: NAME.pt on torch, NAME.onnx on the
    others) on `backend`: "auto" or one of engine.choice.BACKENDS, as vst-run's --backend
    names them, with the style mix; `precision` (openvino_runner.PRECISIONS) on OpenVINO."""
    # the CLI's choices refuse these already; the Python API reaches here with whatever it was given
    if backend not in BACKENDS:
        raise InputError(f"backend {backend!r}: one of {', '.join(BACKENDS)}")
    if precision not in PRECISIONS:
        raise InputError(f"precision {precision!r}: one of {', '.join(PRECISIONS)}")
    if style is not None:
        backend = choose_backend("style", f"--style {style}", backend)
        path = shipped_model(style, ".pt" if backend == "torch" else ".onnx")
    elif not engine.is_file():
        raise InputError(f"{engine}: no such engine file")
    elif engine.suffix not in KINDS:
        raise InputError(f"{engine}: unknown engine type; give a .plan, .onnx or .pt file")
    else:
        path, backend = engine, choose_backend(KINDS[engine.suffix], str(engine), backend)
    opener = OPENERS[KINDS[path.suffix], backend]
    if backend == "openvino":
        return opener(path, mix, precision)
    if precision != "auto":
        raise InputError(f"precision {precision} is for the openvino backend; {path.name} runs on {backend}")
    return opener(path, mix)
