"""INT8 on OpenVINO: a shipped style runs its shipped INT8 graph without NNCF; another ONNX
model is quantized by NNCF once per machine and then read from the cache; a graph that fails
the gate steps down with a line; where INT8 cannot be had, `auto` goes on without it and
`--precision int8` is refused in one line."""
import os
import subprocess
import sys

import numpy as np
import pytest

ov = pytest.importorskip("openvino")

from vst.core.cpu import cpu_flags, has_native_int8  # noqa: E402
from vst.core.errors import InputError  # noqa: E402
from vst.core.quality import psnr, reference_frame  # noqa: E402
from vst.engine import int8  # noqa: E402
from vst.engine.cli import main as vst_run  # noqa: E402
from vst.engine.openvino_runner import OpenVinoRunner, fixed_shape_graphs, read_vst_onnx  # noqa: E402
from vst.engine.precision import INT8_MIN_PSNR  # noqa: E402
from vst.engine.runner import open_runner  # noqa: E402
from vst.samples import SAMPLE_CLIP  # noqa: E402
from vst.styles import shipped_model  # noqa: E402

from invoke import invoke  # noqa: E402

CANDY = shipped_model("candy", ".onnx")
KEY = int8.onnx_key(CANDY.read_bytes())


def fake_quantizes(graph):
    return sum(op.get_type_name() == "FakeQuantize" for op in graph.get_ordered_ops())


@pytest.fixture(scope="module")
def candy():
    return read_vst_onnx(CANDY)[0]


@pytest.fixture(scope="module")
def quantized(candy, tmp_path_factory):
    """candy's INT8 graph made by NNCF into an empty cache."""
    pytest.importorskip("nncf", reason="pip install 'vst[int8]'")
    cache = tmp_path_factory.mktemp("int8")
    return int8.int8_graph(candy, KEY, cache), cache


def test_the_shipped_int8_graph_passes_the_gate_without_nncf(candy, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing quantized before
    monkeypatch.setattr(int8, "nncf_missing", lambda: "INT8 for this model needs NNCF")
    monkeypatch.setattr(int8, "quantize", lambda graph: pytest.fail("quantized"))
    runner = open_runner(None, "candy", precision="int8")
    assert (runner.name, runner.notice) == ("OpenVINO (CPU, INT8)", None)
    fp32 = OpenVinoRunner(fixed_shape_graphs(candy), "fp32")
    frame = reference_frame((144, 256))  # not the gate's size
    got = runner(frame)
    assert psnr(got, fp32(frame)) >= INT8_MIN_PSNR - 1 and not np.array_equal(got, fp32(frame))
    auto = open_runner(None, "candy")  # INT8 where the CPU has AVX2, VNNI or AMX
    assert (auto.name == "OpenVINO (CPU, INT8)") == has_native_int8()
    with pytest.raises(InputError, match="INT8 for this model needs NNCF"):
        int8.int8_graph(candy, "another model", tmp_path)


@pytest.mark.parametrize("flags, takes_int8", [({"sse4_2", "avx"}, False), ({"avx", "avx2", "fma"}, True),
                                                ({"avx2", "avx512_vnni"}, True), ({"avx_vnni"}, True)])
def test_auto_takes_int8_on_every_cpu_with_avx2(flags, takes_int8, monkeypatch):
    """AVX2 without VNNI ran the shipped INT8 graphs 1.3-1.6x FP32 at VNNI's quality
    (docs/results.md, INT8 without VNNI)."""
    from vst.core import cpu

    monkeypatch.setattr(cpu, "cpu_flags", lambda: flags)
    assert cpu.has_native_int8() == takes_int8


def test_isa_ceiling_takes_flags_away(monkeypatch):
    from vst.core import cpu

    monkeypatch.setattr(cpu, "_cpuinfo", lambda: {"flags": "avx2 avx512f avx512_vnni avx512_bf16 amx_int8"})
    for ceiling, bf16, kept in [("avx2", False, {"avx2", "avx512f"}), ("AVX512_CORE_VNNI", False, {"avx512_vnni"}),
                                ("AVX512_CORE_BF16", True, {"avx512_bf16"}), ("ALL", True, {"amx_int8"})]:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", ceiling)
        assert cpu.has_native_bf16() == bf16 and kept <= cpu.cpu_flags() and cpu.has_native_int8()


@pytest.mark.skipif("avx2" not in cpu_flags(), reason="an x86 CPU with AVX2")
def test_under_an_avx2_ceiling_int8_runs_avx2_kernels_and_fp32_float_layers():
    """ONEDNN_MAX_CPU_ISA=AVX2 makes a newer CPU run the convolutions of an AVX2 one, and vst
    its float layers in FP32 (asking BF16 there fails to compile the transposed convolution);
    OpenVINO's own kernels (instance norm, element-wise) keep the wider instructions."""
    code = """
import numpy as np
from vst.engine.runner import openvino_on_onnx
from vst.styles import shipped_model
runner, _ = openvino_on_onnx(shipped_model("candy", ".onnx"))
((_, counters),) = runner.profile(np.zeros((1, 64, 64, 3), np.uint8), 1)
convolutions = {c.exec_type for c in counters if c.node_type.startswith("Convolution")}
print(runner.precision, any("bf16" in c.exec_type for c in counters), *sorted(convolutions))
"""
    ran = subprocess.run([sys.executable, "-c", code], env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"},
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    precision, any_bf16, *convolutions = ran.stdout.split()
    assert precision == "int8" and any_bf16 == "False"
    assert any("I8" in kernel for kernel in convolutions)
    assert all("avx2" in kernel for kernel in convolutions), convolutions


def test_nncf_quantizes_once_and_the_cache_serves_it(candy, quantized, monkeypatch):
    graph, cache = quantized
    assert fake_quantizes(graph) >= 16
    assert [p.name for p in cache.iterdir()] and {p.suffix for p in cache.iterdir()} == {".xml", ".bin"}
    monkeypatch.setattr(int8, "quantize", lambda graph: pytest.fail("quantized again"))
    assert fake_quantizes(int8.int8_graph(read_vst_onnx(CANDY)[0], KEY, cache)) >= 16
    (xml,) = cache.glob("*.xml")
    assert int8.read_int8(xml, "another model") is None  # stale: made from other bytes or recipe


def test_a_broken_int8_file_is_not_used_and_says_nothing(tmp_path, capfd):
    xml = tmp_path / "candy.int8.xml"
    xml.write_text("not IR")
    xml.with_suffix(".bin").write_bytes(b"x")
    assert int8.read_int8(xml, KEY) is None
    assert capfd.readouterr().err == ""  # core.read_model's TensorFlow frontend would print its parse errors


def test_calibration_leaves_out_the_gate_frame():
    frames = int8.calibration_frames()
    assert len(frames) == int8.CALIBRATION_FRAMES and frames[0].shape == (1, *int8.CALIBRATION_SIZE, 3)
    gate = reference_frame(int8.CALIBRATION_SIZE).astype(np.float32)
    assert min(np.mean((frame - gate) ** 2) for frame in frames) > 100


def test_int8_that_fails_the_gate_steps_down_with_a_line(candy, monkeypatch):
    shipped = int8.read_int8(int8.beside(CANDY), KEY)
    monkeypatch.setattr("vst.engine.precision.INT8_MIN_PSNR", 1000.0)  # no INT8 output can pass
    runner = OpenVinoRunner(fixed_shape_graphs(candy), "int8", fixed_shape_graphs(shipped))
    assert runner.precision in ("bf16", "fp32")
    assert runner.notice.startswith("INT8 output is ")
    assert runner.notice.endswith(f"running in {runner.precision.upper()}")


def test_where_int8_cannot_be_made_auto_goes_on_with_a_line(onnx_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(int8, "quantize", lambda graph: (_ for _ in ()).throw(RuntimeError("NNCF broke")))
    monkeypatch.setattr(int8, "nncf_missing", lambda: None)
    runner = open_runner(onnx_model, None)
    assert "INT8" not in runner.name
    if has_native_int8():
        assert runner.notice.startswith(f"INT8 could not be made for {onnx_model.name} (RuntimeError: NNCF broke)")
    out = tmp_path / "out.mp4"
    code, _, err = invoke(vst_run, capsys, [SAMPLE_CLIP, "--engine", onnx_model, "--precision", "int8", "-o", out])
    assert code == 2 and "INT8 could not be made" in err and "Traceback" not in err and not out.exists()


def test_precision_refusals(checkpoint, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, _, err = invoke(vst_run, capsys, [SAMPLE_CLIP, "--engine", checkpoint, "--precision", "int8", "-o", out])
    assert code == 2 and "INT8 runs ONNX models; export it first" in err and not out.exists()
    pytest.importorskip("onnxruntime", reason="pip install 'vst[export]'")
    code, _, err = invoke(vst_run, capsys, [SAMPLE_CLIP, "--style", "candy", "--backend", "onnxruntime",
                                            "--precision", "bf16", "-o", out])
    assert code == 2 and "precision bf16 is for the openvino backend" in err and not out.exists()
