"""OpenVINO on the CPU: the stylizer compiled once per frame size, in BF16 where OpenVINO
reports BF16 on this CPU (after the precision gate), else FP32.

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

from vst.core.cpu import usable_cores
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
OPENVINO_PRECISION = {"bf16": "bf16", "fp32": "f32"}  # vst's names -> INFERENCE_PRECISION_HINT


def openvino_cache() -> Path:
    return cache_dir() / "openvino"


def reports_bf16(core: ov.Core) -> bool:
    """Whether OpenVINO's CPU plugin reports native BF16 on this CPU."""
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def read_vst_onnx(path: Path) -> tuple[ov.Model, ArtifactMetadata]:
    """An ONNX file written by vst-export, as OpenVINO reads it (dynamic batch, height and
    width), and its metadata record; InputError for any other file. Read through the ONNX
    frontend alone: core.read_model tries every frontend on a bad file, and TensorFlow's
    writes lines of its own to stderr."""
    from openvino.frontend import FrontEndManager

    onnx = FrontEndManager().load_by_framework("onnx")
    try:
        graph = onnx.convert(onnx.load(str(path)))
    except Exception as exc:  # the frontend raises several types for a file that is not ONNX
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


def torch_graphs(stylizer: Stylizer, mix: StyleMix = StyleMix()) -> Graphs:
    """Graphs of the FP32 FrameModel traced at each shape asked for. Tracing bakes the
    stylizer's padding arithmetic (pad to a multiple of 4, at least 8) into constants, so a
    graph is traced per shape rather than once and reshaped: that one fails on frames under
    5 pixels a side. TorchScript, though torch deprecates it: OpenVINO compiles the traced
    graph op for op like the exported ONNX (instance norm fused into MVN), while it gets
    torch.export's program with instance norm decomposed, 30 reductions in place of 15 MVN."""
    import openvino as ov
    import torch

    from vst.core.frame_model import frame_model

    model = frame_model(stylizer, "fp32", mix)

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
    """The stylizer on OpenVINO's CPU plugin: a callable from uint8 (N, H, W, 3) RGB frames to
    the same. Each frame size gets its own static-shape compiled model, made on first use and
    kept (static shapes ran 4-15 % faster than one dynamic-shape model on the EPYC of
    docs/results.md). Latency hint, one stream, as many threads as usable cores. `precision` None:
    "bf16" where OpenVINO reports BF16, else "fp32"; BF16 must pass the precision gate, else
    it runs FP32 and says so in `notice`. Compiled models are cached on disk
    (openvino_cache()), so a frame size seen before starts without compiling again."""

    def __init__(self, graphs: Graphs, precision: str | None = None):
        import openvino as ov

        self.core, self.graphs = ov.Core(), graphs
        self.core.set_property({"CACHE_DIR": str(openvino_cache())})
        self.precision = precision or ("bf16" if reports_bf16(self.core) else "fp32")
        self.requests: dict[Shape, ov.InferRequest] = {}
        self.notice = self._gate() if self.precision == "bf16" else None

    def _gate(self) -> str | None:
        fp32 = OpenVinoRunner(self.graphs, "fp32")
        notice = precision_gate(self, fp32)
        if notice:
            self.precision, self.requests = "fp32", fp32.requests
        return notice

    @property
    def label(self) -> str:
        return f"OpenVINO (CPU, {self.precision.upper()})"

    def _compile(self, shape: Shape, **extra) -> ov.CompiledModel:
        return self.core.compile_model(self.graphs(shape), "CPU", {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": OPENVINO_PRECISION[self.precision],
            "INFERENCE_NUM_THREADS": usable_cores(), **extra})

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
        # frame, while the pipeline still holds this one
        return self._request(frames.shape).infer(frames, share_inputs=True)[0]
