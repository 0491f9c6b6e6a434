"""OpenVinoRunner: parity with ONNX Runtime at odd sizes from both of its graph sources
(the exported ONNX and the PyTorch model), one compiled model per frame size, BF16 where
OpenVINO reports it, and the precision gate's fallback to FP32."""
import numpy as np
import pytest

ov = pytest.importorskip("openvino")

from vst.engine.openvino_runner import (OpenVinoRunner, fixed_shape_graphs,  # noqa: E402
                                        read_vst_onnx, reports_bf16, torch_graphs)
from vst.core.checkpoint import Checkpoint  # noqa: E402
from vst.engine.precision import BF16_MIN_PSNR  # noqa: E402
from vst.core.quality import psnr, reference_frame  # noqa: E402
from vst.export.onnx_export import PARITY_TOLERANCE  # noqa: E402

SIZES = ((97, 131), (29, 37), (3, 2))   # (H, W): odd, and under the 8 pixels the stylizer pads to


@pytest.fixture(scope="module")
def graphs(checkpoint):
    """The checkpoint fixture's graphs from PyTorch, shared so that each shape is traced once."""
    return torch_graphs(Checkpoint.load(checkpoint).stylizer)


@pytest.fixture(scope="module")
def onnxruntime(onnx_model):
    pytest.importorskip("onnxruntime", reason="pip install 'vst[export]'")
    from vst.core.onnx_runner import OnnxRunner

    return OnnxRunner(onnx_model)


def needs_bf16() -> None:
    if not reports_bf16(ov.Core()):
        pytest.skip("OpenVINO reports no BF16 on this CPU")


@pytest.mark.parametrize("source", ["pytorch", "onnx"])
def test_fp32_matches_onnxruntime_at_odd_sizes(source, graphs, onnx_model, onnxruntime):
    if source == "onnx":
        graphs = fixed_shape_graphs(read_vst_onnx(onnx_model)[0])
    runner = OpenVinoRunner(graphs, "fp32")
    for size in SIZES:
        frames = reference_frame(size)
        got = runner(frames)
        assert got.shape == frames.shape and got.dtype == np.uint8
        assert np.abs(got.astype(int) - onnxruntime(frames)).max() <= PARITY_TOLERANCE
    frame = reference_frame()
    assert np.abs(runner(frame).astype(int) - frame).mean() > 5  # it restyles, not copies


def test_default_precision_is_bf16_where_openvino_reports_it(graphs, onnxruntime):
    runner = OpenVinoRunner(graphs)
    precision = "bf16" if reports_bf16(ov.Core()) else "fp32"
    assert (runner.precision, runner.notice, runner.label) == (precision, None, f"OpenVINO (CPU, {precision.upper()})")
    frame = reference_frame()
    assert psnr(runner(frame), onnxruntime(frame)) >= BF16_MIN_PSNR


def test_bf16_computes_in_bf16(graphs):
    needs_bf16()
    frame = reference_frame()
    assert not np.array_equal(OpenVinoRunner(graphs, "bf16")(frame), OpenVinoRunner(graphs, "fp32")(frame))


def test_one_compiled_model_per_frame_size(graphs):
    made = []

    def counted(shape):
        made.append(shape)
        return graphs(shape)

    runner = OpenVinoRunner(counted, "fp32")
    for size in ((40, 56), (40, 56), (48, 64), (40, 56)):
        assert runner(reference_frame(size)).shape == (1, *size, 3)
    assert made == [(1, 40, 56, 3), (1, 48, 64, 3)] and set(runner.requests) == set(made)


def test_gate_falls_back_to_fp32_when_bf16_fails(graphs, monkeypatch):
    needs_bf16()
    monkeypatch.setattr("vst.engine.precision.BF16_MIN_PSNR", 1000.0)  # no BF16 output can pass
    fallback = OpenVinoRunner(graphs, "bf16")
    assert fallback.precision == "fp32" and fallback.label == "OpenVINO (CPU, FP32)"
    assert fallback.notice.startswith("BF16 output is ") and fallback.notice.endswith("running in FP32")
    fp32 = OpenVinoRunner(graphs, "fp32")
    for frame in (reference_frame(), reference_frame((64, 96))):  # the gate's frame size, and another
        assert np.array_equal(fallback(frame), fp32(frame))


def test_a_video_runs_two_frames_in_flight_in_order_across_sizes(graphs):
    runner = OpenVinoRunner(graphs, "fp32")
    frames = [reference_frame(size) for size in ((40, 56), (48, 64), (40, 56), (40, 56))]
    frames[2] = frames[2][:, ::-1].copy()  # not the same as the first
    pending, outputs = [], []
    for frame in frames:  # as the pipeline submits them: two ahead, oldest collected first
        pending.append(runner.submit(frame))
        if len(pending) == runner.depth:
            outputs.append(runner.collect(pending.pop(0)))
    outputs += [runner.collect(request) for request in pending]
    for frame, output in zip(frames, outputs):
        assert output.shape == frame.shape
        assert np.abs(output.astype(int) - runner(frame)).max() <= PARITY_TOLERANCE  # one frame alone
    assert set(runner.queues) == {(1, 40, 56, 3), (1, 48, 64, 3)}
