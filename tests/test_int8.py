"""INT8 on OpenVINO: a shipped style quantized by NNCF passes the precision gate, is made
once per machine and then read from the cache, steps down with a line when it fails the gate,
and is refused in one line where it cannot run."""
import numpy as np
import pytest

ov = pytest.importorskip("openvino")
pytest.importorskip("nncf", reason="pip install nncf")

from vst.core.errors import InputError  # noqa: E402
from vst.core.quality import psnr, reference_frame  # noqa: E402
from vst.engine import int8  # noqa: E402
from vst.engine.openvino_runner import OpenVinoRunner, fixed_shape_graphs, read_vst_onnx  # noqa: E402
from vst.engine.precision import INT8_MIN_PSNR  # noqa: E402
from vst.engine.runner import open_runner  # noqa: E402
from vst.styles import shipped_model  # noqa: E402

from vst.engine.cli import main as vst_run  # noqa: E402
from vst.samples import SAMPLE_CLIP  # noqa: E402

from invoke import invoke  # noqa: E402


CANDY = shipped_model("candy", ".onnx")


@pytest.fixture(scope="module")
def candy():
    return read_vst_onnx(CANDY)[0]


@pytest.fixture(scope="module")
def quantized(candy, tmp_path_factory):
    cache = tmp_path_factory.mktemp("int8")
    return int8.int8_graph(candy, int8.onnx_key(CANDY.read_bytes()), cache), cache


def test_int8_passes_the_gate_and_is_quantized(candy, quantized):
    graph, _ = quantized
    assert sum(op.get_type_name() == "FakeQuantize" for op in graph.get_ordered_ops()) >= 16
    runner = OpenVinoRunner(fixed_shape_graphs(candy), "int8", fixed_shape_graphs(graph))
    assert (runner.precision, runner.notice, runner.label) == ("int8", None, "OpenVINO (CPU, INT8)")
    fp32 = OpenVinoRunner(fixed_shape_graphs(candy), "fp32")
    frame = reference_frame((144, 256))  # not the gate's size
    assert psnr(runner(frame), fp32(frame)) >= INT8_MIN_PSNR - 1
    assert not np.array_equal(runner(frame), fp32(frame))


def test_a_quantized_graph_is_read_from_the_cache(candy, quantized, monkeypatch):
    _, cache = quantized
    assert len(list(cache.glob("*.xml"))) == len(list(cache.glob("*.bin"))) == 1
    monkeypatch.setattr(int8, "quantize", lambda graph: pytest.fail("quantized again"))
    again = int8.int8_graph(read_vst_onnx(CANDY)[0], int8.onnx_key(CANDY.read_bytes()), cache)
    assert sum(op.get_type_name() == "FakeQuantize" for op in again.get_ordered_ops()) >= 16


def test_without_nncf_a_shipped_style_runs_int8_and_another_model_is_refused(candy, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing quantized before
    monkeypatch.setattr(int8, "nncf_missing", lambda: "INT8 for this model needs NNCF")
    monkeypatch.setattr(int8, "quantize", lambda graph: pytest.fail("quantized"))
    assert open_runner(None, "candy").name == "OpenVINO (CPU, INT8)"  # its IR ships beside its ONNX
    with pytest.raises(InputError, match="INT8 for this model needs NNCF"):
        int8.int8_graph(candy, "another", tmp_path)


def test_a_stale_graph_is_not_used(tmp_path, quantized):
    graph, cache = quantized
    (xml,) = cache.glob("*.xml")
    assert int8.read_int8(xml, xml.stem) is not None and int8.read_int8(xml, "another model") is None


def test_int8_that_fails_the_gate_steps_down_with_a_line(candy, quantized, monkeypatch):
    monkeypatch.setattr("vst.engine.precision.INT8_MIN_PSNR", 1000.0)  # no INT8 output can pass
    runner = OpenVinoRunner(fixed_shape_graphs(candy), "auto", fixed_shape_graphs(quantized[0]))
    assert runner.precision in ("bf16", "fp32")
    assert runner.notice.startswith("INT8 output is ") and runner.notice.endswith(f"running in {runner.precision.upper()}")


def test_a_style_runs_in_the_precision_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for precision in ("int8", "fp32"):
        runner = open_runner(None, "candy", precision=precision)
        assert runner.name == f"OpenVINO (CPU, {precision.upper()})" and runner.notice is None


def test_precision_refusals(checkpoint, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, _, err = invoke(vst_run, capsys, [SAMPLE_CLIP, "--engine", checkpoint, "--precision", "int8", "-o", out])
    assert code == 2 and "INT8 runs ONNX models; export it first" in err and not out.exists()
    pytest.importorskip("onnxruntime", reason="pip install 'vst[export]'")
    code, _, err = invoke(vst_run, capsys, [SAMPLE_CLIP, "--style", "candy", "--backend", "onnxruntime",
                                            "--precision", "bf16", "-o", out])
    assert code == 2 and "--precision bf16 is for the openvino backend" in err and not out.exists()
