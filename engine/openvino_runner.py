"""OpenVINO on the CPU: the stylizer compiled once per frame size, in INT8 (engine.int8), BF16
or FP32: by default the fastest this CPU runs that passes the precision gate.

Frames at this boundary are core.frame_io.FRAME_IO: uint8 (N, H, W, 3) RGB in [0, 255],
in and out. The graph comes from an exported ONNX (`read_vst_onnx`: no torch, no onnx
package), with the style mix appended in OpenVINO's own ops (`with_mix`), or straight from a
PyTorch stylizer (`torch_graphs`, which needs torch).
"""
from __future__ import annotations

import time
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from vst.core.cpu import BF16_FLAGS, above_ceiling, has_native_int8, usable_cores
from vst.core.errors import InputError
from vst.core.metadata import METADATA_KEY, ArtifactMetadata, metadata_from_props
from vst.core.paths import cache_dir
from vst.core.style_mix import BT601_LUMA, StyleMix

from .precision import precision_gate

if TYPE_CHECKING:
    import openvino as ov

    from vst.core.stylizer import Stylizer

Shape = tuple[int, ...]                 # (N, H, W, 3)
Graphs = Callable[[Shape], "ov.Model"]
PRECISIONS = ("auto", "int8", "bf16", "fp32")  # what --precision takes
IN_FLIGHT = 2                   # video frames submitted ahead (submit / collect)
STREAMED_PIXELS = 1920 * 1088   # up to this frame size a video runs IN_FLIGHT streams


def openvino_cache() -> Path:
    return cache_dir() / "openvino"


def reports_bf16(core: ov.Core) -> bool:
    """Whether OpenVINO's CPU plugin reports native BF16 on this CPU, and oneDNN may use it:
    the plugin reports what the CPU has, above ONEDNN_MAX_CPU_ISA too (core.cpu)."""
    return ("BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
            and not set(BF16_FLAGS) <= above_ceiling())


def read_with_frontend(framework: str, path: Path) -> ov.Model:
    """`path` read through OpenVINO's frontend for `framework` ("onnx", "ir") alone:
    core.read_model tries every frontend on a bad file, and TensorFlow's writes lines of its own
    to stderr. The frontend raises several types for a file it cannot read."""
    from openvino.frontend import FrontEndManager

    frontend = FrontEndManager().load_by_framework(framework)
    return frontend.convert(frontend.load(str(path)))


def read_vst_onnx(path: Path) -> tuple[ov.Model, ArtifactMetadata]:
    """An ONNX file written by vst-export, as OpenVINO reads it (dynamic batch, height and
    width), and its metadata record; InputError for any other file."""
    try:
        graph = read_with_frontend("onnx", path)
    except Exception as exc:  # noqa: BLE001 - see read_with_frontend
        raise InputError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    where = ["framework", METADATA_KEY]  # OpenVINO keeps ONNX metadata_props under "framework"
    props = {METADATA_KEY: graph.get_rt_info(where).astype(str)} if graph.has_rt_info(where) else {}
    return graph, metadata_from_props(props, path)


def with_mix(graph: ov.Model, mix: StyleMix) -> ov.Model:
    """The graph with the style mix (core.style_mix) appended in OpenVINO's ops, computed in
    FP32 on the 0-255 scale: the same uint8 NHWC input, the mixed uint8 frames out."""
    import openvino as ov
    import openvino.opset13 as ops

    if mix.is_plain:
        return graph
    frames = graph.get_parameters()[0]
    stylized = graph.get_results()[0].input_value(0)  # what the result reads, not the result
    x, y = ops.convert(frames, "f32"), ops.convert(stylized, "f32")
    if mix.preserve_color:
        weights = np.array(BT601_LUMA, np.float32)   # over the last (channel) axis

        def luma(rgb):
            return ops.reduce_sum(ops.multiply(rgb, weights), np.array([3], np.int64), keep_dims=True)
        y = ops.add(x, ops.subtract(luma(y), luma(x)))
    mixed = ops.add(x, ops.multiply(ops.subtract(y, x), np.float32(mix.strength)))
    out = ops.convert(ops.clamp(ops.round(mixed, "half_to_even"), 0, 255), "u8")
    return ov.Model([out], [frames], graph.friendly_name)


def fixed_shape_graphs(dynamic: ov.Model) -> Graphs:
    """Graphs of a dynamic-shape model with its input fixed to each shape asked for."""
    @cache
    def at(shape: Shape) -> ov.Model:
        graph = dynamic.clone()
        graph.reshape(list(shape))
        return graph
    return at


def torch_graphs(stylizer: Stylizer, mix: StyleMix = StyleMix(), fold: bool = True) -> Graphs:
    """Graphs of the FP32 FrameModel traced at each shape asked for. Tracing bakes the
    stylizer's padding arithmetic (pad to a multiple of 4, at least 8) into constants, so a
    graph is traced per shape rather than once and reshaped: that one fails on frames under
    5 pixels a side. TorchScript, though torch deprecates it: OpenVINO compiles the traced
    graph op for op like the exported ONNX (instance norm fused into MVN), while it gets
    torch.export's program with instance norm decomposed, 30 reductions in place of 15 MVN."""
    import openvino as ov
    import torch

    from vst.core.frame_model import frame_model

    model = frame_model(stylizer, "fp32", mix, fold)

    @cache
    def at(shape: Shape) -> ov.Model:
        example = torch.zeros(shape, dtype=torch.uint8)
        # traced here rather than by convert_model, whose trace check runs the network three
        # more times (seconds at 1024 x 436); its warnings hold only for other shapes
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            traced = torch.jit.trace(model, example, check_trace=False)
        return ov.convert_model(traced, example_input=example, input=[list(shape)])
    return at


class OpenVinoRunner:
    """The stylizer on OpenVINO's CPU plugin, on uint8 (N, H, W, 3) RGB frames in and out:
    called, one frame at a time on every core (latency hint: stills, previews, the gate); or
    through submit / collect with IN_FLIGHT frames in flight, a video's path: there, frames up
    to STREAMED_PIXELS run in IN_FLIGHT streams that split the cores, one frame each (one core
    each on two cores), so that the decoder and the encoder taking a core stall one stream
    rather than every core's share of every layer (docs/results.md: +29 % end to end at 720p
    on 2 cores); larger ones one stream on every core, for memory. Each frame size and mode
    gets its own static-shape compiled model, made on first use and kept (static shapes ran
    4-15 % faster than one dynamic-shape model).

    `precision` "auto" tries, in order, INT8 (when `int8_graphs` are given and the CPU has
    INT8 dot products), BF16 (when OpenVINO reports it), then FP32; a precision asked for
    starts the same chain there. INT8 and BF16 must pass the precision gate, else the runner
    steps down and says why in `notice`. INT8 graphs keep their float layers in BF16 where
    the CPU has it. Compiled models are cached on disk (openvino_cache()), so a frame size
    seen before starts without compiling again."""

    def __init__(self, graphs: Graphs, precision: str = "auto", int8_graphs: Graphs | None = None,
                 no_int8: str | None = None):
        """`no_int8`: why there are no int8_graphs, for the notice where INT8 would have run."""
        import openvino as ov

        self.core, self.float_graphs, self.int8_graphs = ov.Core(), graphs, int8_graphs
        self.core.set_property({"CACHE_DIR": str(openvino_cache())})
        self.bf16 = reports_bf16(self.core)
        self.requests: dict[Shape, ov.InferRequest] = {}
        self.queues: dict[Shape, list[ov.InferRequest]] = {}  # submit's: IN_FLIGHT requests per shape
        self.submitted = 0
        self.precision, self.notice = self._settle(self._chain(precision),
                                                   [no_int8] if no_int8 and has_native_int8() else [])

    def _chain(self, precision: str) -> list[str]:
        """The precisions to try in order: from `precision` (or the first usable one, for
        "auto") down through the usable ones. One asked for without its instructions here
        runs emulated (slowly), still gated."""
        order = ("int8", "bf16", "fp32")
        usable = [p for p, ok in zip(order, (self.int8_graphs is not None and has_native_int8(), self.bf16, True))
                  if ok]
        if precision == "auto":
            return usable
        if precision == "int8" and self.int8_graphs is None:
            raise ValueError("INT8 needs int8_graphs")
        return [precision] + [p for p in usable if order.index(p) > order.index(precision)]

    def _settle(self, chain: list[str], failed: list[str]) -> tuple[str, str | None]:
        """The first precision of `chain` that passes the gate (FP32 always does), and the
        notice of those before it that did not (after `failed`, the reasons known already)."""
        fp32 = None
        for precision in chain:
            self.precision, self.requests, self.queues = precision, {}, {}
            if precision == "fp32":
                if fp32 is not None:
                    self.requests = fp32.requests
                break
            fp32 = fp32 or OpenVinoRunner(self.float_graphs, "fp32")
            why = precision_gate(self, fp32, precision)
            if why is None:
                break
            failed.append(why)
        return self.precision, f"{'; '.join(failed)}: running in {self.precision.upper()}" if failed else None

    @property
    def label(self) -> str:
        return f"OpenVINO (CPU, {self.precision.upper()})"

    def graph(self, shape: Shape) -> ov.Model:
        """The graph compiled for frames of `shape`, in the runner's precision."""
        return (self.int8_graphs if self.precision == "int8" else self.float_graphs)(shape)

    def _compile(self, shape: Shape, streams: int = 1, **extra) -> ov.CompiledModel:
        # INT8 graphs keep some layers in float: BF16 for them only where the CPU has it
        float_precision = {"int8": "bf16" if self.bf16 else "f32", "bf16": "bf16", "fp32": "f32"}[self.precision]
        hint = {"PERFORMANCE_HINT": "LATENCY"} if streams == 1 else {"PERFORMANCE_HINT": "THROUGHPUT",
                                                                     "NUM_STREAMS": streams}
        return self.core.compile_model(self.graph(shape), "CPU", {
            **hint, "INFERENCE_PRECISION_HINT": float_precision, "INFERENCE_NUM_THREADS": usable_cores(),
            **extra})

    def _request(self, shape: Shape) -> ov.InferRequest:
        if shape not in self.requests:
            self.requests[shape] = self._compile(shape).create_infer_request()
        return self.requests[shape]

    def profile(self, frames: np.ndarray, runs: int) -> list[tuple[float, list["ov.ProfilingInfo"]]]:
        """For each of `runs` inferences of `frames` (after one untimed), its wall time in
        seconds and OpenVINO's own time of every node (the performance counters), compiled as
        __call__ compiles them, with the counters on."""
        request = self._compile(frames.shape, PERF_COUNT=True).create_infer_request()
        request.infer(frames, share_inputs=True)
        profiles = []
        for _ in range(runs):
            start = time.perf_counter()
            request.infer(frames, share_inputs=True)
            profiles.append((time.perf_counter() - start, list(request.profiling_info)))
        return profiles

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        # share_outputs stays off: the request's output buffer is overwritten by the next
        # frame, while the caller may still hold this one
        return self._request(frames.shape).infer(frames, share_inputs=True)[0]

    depth = IN_FLIGHT

    def submit(self, frames: np.ndarray) -> ov.InferRequest:
        """Start `frames`; collect(what this returns) gives their output. At most IN_FLIGHT
        frames may wait uncollected: requests are reused in turn."""
        shape = frames.shape
        if shape not in self.queues:
            streams = min(IN_FLIGHT, usable_cores()) if shape[1] * shape[2] <= STREAMED_PIXELS else 1
            compiled = self._compile(shape, streams)
            self.queues[shape] = [compiled.create_infer_request() for _ in range(IN_FLIGHT)]
        request = self.queues[shape][self.submitted % IN_FLIGHT]
        self.submitted += 1
        request.wait()  # idle unless a caller left a frame uncollected (a video that failed)
        request.start_async(frames)  # copies the input: the caller may reuse its array
        return request

    @staticmethod
    def collect(request: ov.InferRequest) -> np.ndarray:
        request.wait()
        return request.get_output_tensor(0).data.copy()
