"""The backends vst-bench times, each opened on a stylizer built in memory.

A TimedRunner takes uint8 (1, H, W, 3) RGB frames in host memory (core.frame_io.FRAME_IO):
  output(frames)        the stylized frame in host memory, for the precision check
  with_copies(frames)   seconds by the host clock from a host frame in to a host frame out
  compute_only(frames)  GPU backends: seconds by device events of the network alone on a
                        frame already on the device (None on CPU, where nothing is copied)
"""
import tempfile
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from vst.core.cpu import has_native_bf16, has_native_int8
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer
from vst.core.frame_io import INPUT_NAME, OUTPUT_NAME
from vst.core.frame_model import frame_model
from vst.core.gpu_stack import MissingGpuStack, import_cuda_driver, import_tensorrt
from vst.core.metadata import ArtifactMetadata, ShapeProfile
from vst.core.onnx_graph import OPSET
from vst.engine.choice import installed
from vst.core.onnx_runner import OnnxRunner
from vst.engine.openvino_runner import (Graphs, OpenVinoRunner, fixed_shape_graphs, openvino_cache,
                                        read_vst_onnx, torch_graphs)
from vst.engine.torch_runner import TorchRunner
from vst.export.onnx_export import export_onnx


class BenchModel:
    """A stylizer with the style mix vst-run would give it, its ONNX exports and its OpenVINO
    graphs, made once and shared by the backends that need them. `shipped`: a shipped style's
    ONNX file, of these weights with no mix, which the FP32 ONNX and the INT8 graph are then
    read from (its INT8 IR beside it), as vst-run reads them, instead of made here."""

    def __init__(self, stylizer: Stylizer, style: str = "random", mix: StyleMix = StyleMix(),
                 shipped: Path | None = None, label: str | None = None):
        """`label`: its column in vst-bench's tables [default: `style`]."""
        self.stylizer, self.style, self.mix, self.shipped = stylizer, style, mix, shipped
        self.label = label or style

    def metadata(self, precision: str) -> ArtifactMetadata:
        return ArtifactMetadata(self.style, self.stylizer.width, self.stylizer.upsample, precision, OPSET,
                                mix=self.mix)

    @cached_property
    def onnx_fp32(self) -> bytes:
        return self.shipped.read_bytes() if self.shipped else export_onnx(self.stylizer, self.metadata("fp32"))

    @cached_property
    def onnx_fp16(self) -> bytes:
        return export_onnx(self.stylizer, self.metadata("fp16"))

    @cached_property
    def openvino_graphs(self) -> Graphs:
        return torch_graphs(self.stylizer, self.mix)  # a .pt on OpenVINO (--style compiles the same graph from its ONNX)

    @cached_property
    def openvino_unfolded_graphs(self) -> Graphs:
        return torch_graphs(self.stylizer, self.mix, fold=False)  # the up blocks as trained

    @cached_property
    def openvino_int8_graphs(self) -> Graphs:
        """The INT8 graph vst-run runs for the FP32 ONNX (engine.int8): a shipped style's own,
        else the ONNX quantized as vst-run quantizes one."""
        from vst.engine.int8 import beside, int8_graph, onnx_key

        if self.shipped:
            graph, _ = read_vst_onnx(self.shipped)
        else:
            with tempfile.TemporaryDirectory(prefix="vst-bench-") as folder:
                path = Path(folder) / "bench.onnx"
                path.write_bytes(self.onnx_fp32)
                graph, _ = read_vst_onnx(path)
        return fixed_shape_graphs(int8_graph(graph, onnx_key(self.onnx_fp32), openvino_cache() / "int8",
                                             beside(self.shipped) if self.shipped else None))


class TimedRunner:
    compute_only: Callable[[np.ndarray], float] | None = None

    def output(self, frames: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def with_copies(self, frames: np.ndarray) -> float:
        start = time.perf_counter()
        self.output(frames)
        return time.perf_counter() - start

    def close(self) -> None:
        pass


class HostRunner(TimedRunner):
    """A CPU backend: any callable from host frames to host frames."""

    def __init__(self, stylize: Callable[[np.ndarray], np.ndarray]):
        self.output = stylize


class TorchCudaRunner(TimedRunner):
    """FP16, channels_last, the whole network replayed as one CUDA graph per frame size
    (no per-layer launch cost from Python)."""

    def __init__(self, stylizer: Stylizer, mix: StyleMix):
        torch.backends.cudnn.benchmark = True  # one frame size: tuning once pays off
        self.model = frame_model(stylizer, "fp16", mix).cuda().to(memory_format=torch.channels_last)
        self.shape = None
        self.start, self.end = (torch.cuda.Event(enable_timing=True) for _ in range(2))

    def _capture(self, shape: tuple) -> None:
        self.device_in = torch.empty(shape, dtype=torch.uint8, device="cuda")
        self.host_in = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.no_grad():
            for _ in range(3):  # cuDNN picks its algorithms before capture, not during it
                self.model(self.device_in)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), torch.no_grad():
            self.device_out = self.model(self.device_in)
        self.host_out = torch.empty(self.device_out.shape, dtype=torch.uint8, pin_memory=True)
        self.shape = shape

    def output(self, frames: np.ndarray) -> np.ndarray:
        if frames.shape != self.shape:
            self._capture(frames.shape)
        self.host_in.numpy()[...] = frames
        self.device_in.copy_(self.host_in, non_blocking=True)
        self.graph.replay()
        self.host_out.copy_(self.device_out, non_blocking=True)
        torch.cuda.current_stream().synchronize()
        return self.host_out.numpy().copy()

    def compute_only(self, frames: np.ndarray) -> float:
        if frames.shape != self.shape:
            self._capture(frames.shape)
        self.device_in.copy_(torch.from_numpy(frames))
        self.start.record()
        self.graph.replay()
        self.end.record()
        self.end.synchronize()
        return self.start.elapsed_time(self.end) / 1000


class OrtCudaRunner(TimedRunner):
    """ONNX Runtime's CUDA provider on the FP16 graph; compute only binds device buffers."""

    def __init__(self, onnx: bytes):
        import onnxruntime as ort

        self.ort = ort
        self.session = OnnxRunner(onnx, ["CUDAExecutionProvider"]).session

    def output(self, frames: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: frames})[0]

    def compute_only(self, frames: np.ndarray) -> float:
        binding = self.session.io_binding()
        binding.bind_ortvalue_input(INPUT_NAME, self.ort.OrtValue.ortvalue_from_numpy(frames, "cuda", 0))
        binding.bind_output(OUTPUT_NAME, "cuda")
        start = time.perf_counter()
        self.session.run_with_iobinding(binding)  # returns once the CUDA stream is done
        return time.perf_counter() - start


class TrtBenchRunner(TimedRunner):
    """A plan built here for exactly this frame size from the FP16 ONNX, run by core's
    TrtRunner; compute only is timed by CUDA events around execute_async_v3."""

    def __init__(self, model: BenchModel, width: int, height: int):
        from vst.core.tensorrt_runner import TrtRunner
        from vst.export.tensorrt_plan import PlanSettings, build_plan

        self.folder = tempfile.TemporaryDirectory(prefix="vst-bench-")
        onnx, plan = Path(self.folder.name) / "bench.fp16.onnx", Path(self.folder.name) / "bench.plan"
        onnx.write_bytes(model.onnx_fp16)
        size = (width, height)
        build_plan(onnx, plan, model.metadata("fp16"), PlanSettings(ShapeProfile(size, size, size)))
        self.runner = TrtRunner(plan)
        self.start, self.end = self.runner.cuda.Event(), self.runner.cuda.Event()

    def output(self, frames: np.ndarray) -> np.ndarray:
        return self.runner(frames)

    def compute_only(self, frames: np.ndarray) -> float:
        slot = self.runner.upload(frames)
        self.start.record(self.runner.stream)
        self.runner.execute(slot)
        self.end.record(self.runner.stream)
        self.end.synchronize()
        return self.start.time_till(self.end) / 1000

    def close(self) -> None:
        self.runner.close()
        self.folder.cleanup()


def _exporter_missing() -> str | None:
    try:
        import onnx  # noqa: F401 - torch.onnx.export needs both
        import onnxscript  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install 'vst[export]')"
    return None


def _onnxruntime_missing(provider: str) -> str | None:
    try:
        import onnxruntime as ort
    except ImportError:
        return "onnxruntime is not installed (pip install 'vst[export]')"
    if provider not in ort.get_available_providers():
        return f"onnxruntime {ort.__version__} has no {provider} here"
    return _exporter_missing()


def _cuda_missing() -> str | None:
    return None if torch.cuda.is_available() else "no CUDA GPU visible to PyTorch"


def _tensorrt_missing() -> str | None:
    try:
        import_tensorrt()
        import_cuda_driver()
    except MissingGpuStack as exc:
        return str(exc)
    return _exporter_missing()


def _bf16_missing() -> str | None:
    return None if has_native_bf16() else "this CPU has no BF16 instructions (AVX512-BF16 or AMX)"


def _openvino_missing() -> str | None:
    return None if installed("openvino") else "openvino is not installed (pip install openvino)"


def _int8_missing() -> str | None:
    from vst.engine.int8 import nncf_missing

    if not has_native_int8():
        return "this CPU has no INT8 dot products (AVX2, VNNI or AMX)"
    return _openvino_missing() or nncf_missing() or _exporter_missing()


def _cpu(open_runner: Callable[[BenchModel], TorchRunner | OpenVinoRunner]
         ) -> Callable[[BenchModel, int, int], TimedRunner]:
    """A CPU runner in a fixed precision; one whose precision gate fails cannot run here."""
    def opened(model: BenchModel, width: int, height: int) -> TimedRunner:
        runner = open_runner(model)
        if runner.notice:
            raise RuntimeError(runner.notice)
        return HostRunner(runner)
    return opened


@dataclass(frozen=True)
class BenchBackend:
    key: str                                            # the name --backends takes
    label: str
    device: str                                         # "cpu" | "cuda"
    precision: str                                      # "fp32" | "fp16" | "bf16" | "int8"
    missing: Callable[[], str | None]                   # why it cannot run here; None if it can
    open: Callable[[BenchModel, int, int], TimedRunner]      # (model, width, height)


BENCH_BACKENDS = [
    BenchBackend("tensorrt-fp16", "TensorRT FP16 plan", "cuda", "fp16", _tensorrt_missing, TrtBenchRunner),
    BenchBackend("torch-cuda-fp16", "PyTorch CUDA FP16, channels_last, CUDA graph", "cuda", "fp16", _cuda_missing,
                 lambda model, width, height: TorchCudaRunner(model.stylizer, model.mix)),
    BenchBackend("onnxruntime-cuda-fp16", "ONNX Runtime CUDA FP16", "cuda", "fp16",
                 lambda: _onnxruntime_missing("CUDAExecutionProvider"),
                 lambda model, width, height: OrtCudaRunner(model.onnx_fp16)),
    BenchBackend("onnxruntime-cpu-fp32", "ONNX Runtime CPU FP32", "cpu", "fp32",
                 lambda: _onnxruntime_missing("CPUExecutionProvider"),
                 lambda model, width, height: HostRunner(OnnxRunner(model.onnx_fp32))),
    BenchBackend("openvino-int8", "OpenVINO CPU INT8 (NNCF; float layers BF16 where the CPU has it)", "cpu", "int8", _int8_missing,
                 _cpu(lambda model: OpenVinoRunner(model.openvino_graphs, "int8", model.openvino_int8_graphs))),
    BenchBackend("openvino-bf16", "OpenVINO CPU BF16 (inference precision hint)", "cpu", "bf16",
                 lambda: _openvino_missing() or _bf16_missing(),
                 _cpu(lambda model: OpenVinoRunner(model.openvino_graphs, "bf16"))),
    BenchBackend("openvino-bf16-unfolded", "OpenVINO CPU BF16, up blocks as trained (resize, then conv)", "cpu", "bf16",
                 lambda: _openvino_missing() or _bf16_missing(),
                 _cpu(lambda model: OpenVinoRunner(model.openvino_unfolded_graphs, "bf16"))),
    BenchBackend("openvino-fp32", "OpenVINO CPU FP32", "cpu", "fp32", _openvino_missing,
                 _cpu(lambda model: OpenVinoRunner(model.openvino_graphs, "fp32"))),
    BenchBackend("torch-cpu-bf16", "PyTorch CPU BF16, channels_last", "cpu", "bf16", _bf16_missing,
                 _cpu(lambda model: TorchRunner(model.stylizer, "cpu", "bf16", model.mix))),
    BenchBackend("torch-cpu-fp32", "PyTorch CPU FP32", "cpu", "fp32", lambda: None,
                 _cpu(lambda model: TorchRunner(model.stylizer, "cpu", "fp32", model.mix))),
]
EAGER = "torch-cpu-fp32"  # the reference of the report's speed-up column
