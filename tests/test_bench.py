"""vst-bench at tiny sizes: the stylize-only and end-to-end modes write every figure to
valid JSON, the FLOP count matches a hand count, backends that cannot run say why, and bad
input gets one line. Timing values are never asserted, only their consistency."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from vst.benchmarks.cli import main
from vst.benchmarks.cost import count_flops, model_cost
from vst.benchmarks.end_to_end import time_in_flight
from vst.benchmarks.timing import Stats, Timed, time_interleaved
from vst.core.checkpoint import Checkpoint
from vst.core.paths import portable
from vst.core.stylizer import Stylizer
from vst.core.folded_upsampling import fold_upsampling
from vst.engine.runner import Runner
from vst.styles import shipped_checkpoint

from bindings_11_4 import tensorrt_installed
from invoke import invoke
from media import make_texture, write_video


def conv_flops(cin: int, cout: int, pixels: int) -> int:
    """2 FLOPs per multiply-add of a 3x3 convolution producing (or, transposed, reading) `pixels`."""
    return 2 * cin * cout * 9 * pixels


def test_flop_counter_matches_hand_counts():
    conv = nn.Conv2d(16, 32, 3, stride=2)
    assert count_flops(conv, torch.rand(1, 16, 37, 50)) == conv_flops(16, 32, 18 * 24)  # 18x24 out
    deconv = nn.ConvTranspose2d(48, 32, 3, stride=2, padding=1, output_padding=1)
    assert count_flops(deconv, torch.rand(1, 48, 9, 11)) == conv_flops(48, 32, 9 * 11)

    # 353-Res48 at the paper's 1024x436, layer by layer from Table 1
    full, half, quarter = 1024 * 436, 512 * 218, 256 * 109
    layers = [(3, 16, full), (16, 32, half), (32, 48, quarter), *[(48, 48, quarter)] * 10,
              (48, 32, quarter), (32, 16, half), (16, 3, full)]  # deconvs counted on their inputs
    cost = model_cost(Stylizer(48), 1024, 436)
    assert cost.flops == sum(conv_flops(*layer) for layer in layers) == 15_944_122_368
    assert cost.frame_bytes == 2 * 3 * full and cost.parameters == 246_963
    assert cost.min_bytes("fp16") == cost.frame_bytes + 2 * 246_963 < cost.layer_bytes("fp16")
    assert cost.min_bytes("fp32") - cost.frame_bytes == 2 * (cost.min_bytes("fp16") - cost.frame_bytes)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr("vst.benchmarks.timing.PAUSE_S", 0)


def test_stats_warmup_and_turns(monkeypatch):
    stats = Stats.of([0.001 * ms for ms in range(1, 11)])
    assert (stats.frames, stats.median_ms, stats.p10_ms, stats.p90_ms) == pytest.approx((10, 5.5, 1.9, 9.1))
    assert stats.fps == pytest.approx(1000 / 5.5)
    seen, pauses = [], []
    frames = [np.full((1, 2, 2, 3), i, np.uint8) for i in range(3)]
    monkeypatch.setattr("vst.benchmarks.timing.time.sleep", pauses.append)
    monkeypatch.setattr("vst.benchmarks.timing.TURNS", 2)
    one = Timed(lambda f: seen.append(("a", int(f[0, 0, 0, 0]))) or 0.002, warmup=2, count=4)
    other = Timed(lambda f: seen.append(("b", int(f[0, 0, 0, 0]))) or 0.004, warmup=1, count=2)
    stats = time_interleaved([one, other], frames)
    assert seen == [("a", 0), ("a", 1), ("b", 0),               # warm-up
                    ("a", 0), ("a", 2), ("a", 0), ("b", 0), ("b", 1),  # turn 1: untimed frame, then timed
                    ("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 2)]  # turn 2
    assert len(pauses) == 4
    assert [(s.frames, s.median_ms) for s in stats] == [(4, pytest.approx(2)), (2, pytest.approx(4))]
    seen.clear(), pauses.clear()
    (alone,) = time_interleaved([one], frames)  # nothing to take turns with: no pause, no extra frame
    assert seen == [("a", 0), ("a", 1), ("a", 2), ("a", 0), ("a", 1), ("a", 2)] and not pauses
    assert alone.frames == 4


def test_frames_in_flight_are_timed_per_frame_over_each_burst(monkeypatch):
    """Two streams hand their frames out together, 1 ms apart, every 70 ms: 35 ms a frame,
    which a median of single output-to-output times (1 or 69 ms) would not say."""
    bursts = iter(t for start in range(0, 10_000, 70) for t in (start / 1000, (start + 1) / 1000))
    monkeypatch.setattr("vst.benchmarks.end_to_end.time.perf_counter", lambda: next(bursts))
    runner = Runner("fake", "none", submit=lambda frames: frames, depth=2)
    stats = time_in_flight(runner, [np.zeros((1, 2, 2, 3), np.uint8)], warmup=2, count=5)
    assert stats.frames == 5
    assert (stats.median_ms, stats.p10_ms, stats.p90_ms) == pytest.approx((35, 35, 35))


class FakeRunner:
    compute_only = None

    def __init__(self, name: str, closed: list, fails: bool = False):
        self.name, self.closed, self.fails = name, closed, fails

    def output(self, frames):
        if self.fails:
            raise RuntimeError(f"{self.name} failed")
        return frames

    def with_copies(self, frames):
        return 0.001

    def close(self):
        self.closed.append(self.name)


class FakeBackend:
    device, precision = "cpu", "fp32"

    def __init__(self, key: str, closed: list, missing: str | None = None, fails: bool = False):
        self.key = self.label = key
        self.closed, self.why, self.fails = closed, missing, fails

    def missing(self):
        return self.why

    def open(self, model, width, height):
        return FakeRunner(self.key, self.closed, self.fails)


def test_every_backend_opened_is_closed_and_rows_keep_their_order():
    from types import SimpleNamespace

    from vst.benchmarks.stylize_only import StylizeBench, bench_backends

    model, settings = SimpleNamespace(label="Res48"), StylizeBench(8, 8, Path("x"), frames=2, warmup=1)
    frames, closed = [np.zeros((1, 8, 8, 3), np.uint8)], []
    backends = [FakeBackend("a", closed), FakeBackend("gone", closed, missing="not here"), FakeBackend("b", closed)]
    done = bench_backends(backends, model, frames, frames[0], settings)
    assert [r.backend.key for r in done] == ["a", "gone", "b"] and sorted(closed) == ["a", "b"]
    assert done[1].not_run == "not here" and done[1].with_copies is None and done[2].with_copies.frames == 2
    closed.clear()
    backends = [FakeBackend("a", closed), FakeBackend("bad", closed, fails=True), FakeBackend("b", closed)]
    with pytest.raises(RuntimeError, match="bad failed"):
        bench_backends(backends, model, frames, frames[0], settings)
    assert sorted(closed) == ["a", "b", "bad"]


def reject_non_json(name: str):
    raise ValueError(f"{name} is not JSON")


def result(record: dict, backend: str, model: str) -> dict:
    return next(r for r in record["results"] if r["backend"] == backend and r["model"] == model)


def test_stylize_only_tiny_writes_json_table_and_plot(tmp_path, capsys):
    # ONNX Runtime's row needs an export of each model, 10 s each here: its own test below
    backends = "torch-cpu-fp32,torch-cpu-bf16,openvino-bf16,openvino-fp32,tensorrt-fp16"
    argv = ["--res", "64x48", "--frames", "2", "--warmup", "1", "--backends", backends,
            "--json", tmp_path / "bench.json"]
    if importlib.util.find_spec("matplotlib"):
        argv += ["--plot", tmp_path / "bench.png"]
    code, out, err = invoke(main, capsys, argv)
    assert code == 0, err
    record = json.loads((tmp_path / "bench.json").read_text(), parse_constant=reject_non_json)

    assert record["command"] == ["vst-bench", *map(portable, map(str, argv))]  # paths as records hold them
    machine = record["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["libraries"]["torch"] == torch.__version__
    assert record["peaks"]["cpu"]["flops"]["fp32"] > 0 and record["peaks"]["cpu"]["bandwidth"] > 0
    assert (record["settings"]["width"], record["settings"]["height"]) == (64, 48)
    assert "random" in record["settings"]["weights"] and record["paper"]["Res128_ms"] == 98.0
    assert [m["model"] for m in record["models"]] == ["Res48", "Res128"]
    # the shipped styles' network, as the graphs run it
    assert record["models"][0]["flops"] == model_cost(fold_upsampling(Stylizer(48, "subpixel")), 64, 48).flops

    fp32 = result(record, "torch-cpu-fp32", "Res48")
    timing = fp32["with_copies"]
    assert timing["frames"] == 2 and timing["p10_ms"] <= timing["median_ms"] <= timing["p90_ms"]
    assert timing["fps"] == pytest.approx(1000 / timing["median_ms"])
    assert fp32["compute_only"] is None and fp32["identical_to_fp32"] and fp32["psnr_vs_fp32_db"] is None
    assert fp32["warmup"] == 1 and fp32["not_run"] is None
    for backend in ("torch-cpu-bf16", "openvino-bf16", "openvino-fp32"):
        other = result(record, backend, "Res128")
        assert other["not_run"] or other["identical_to_fp32"] or other["psnr_vs_fp32_db"] > 35
    if not importlib.util.find_spec("openvino"):
        assert "openvino is not installed" in result(record, "openvino-fp32", "Res48")["not_run"]

    # the speed-up column: PyTorch CPU FP32's median over each backend's, per model
    header = next(line for line in out.splitlines() if line.startswith("| backend |")).split(" | ")
    column = header.index("speed-up vs PyTorch CPU FP32 (Res48 / Res128)")
    for backend in record["results"]:
        if backend["model"] == "Res48" and backend["with_copies"]:
            medians = [result(record, key, model)["with_copies"]["median_ms"]
                       for model in ("Res48", "Res128") for key in ("torch-cpu-fp32", backend["backend"])]
            row = next(line for line in out.splitlines() if line.startswith(f"| {backend['label']} |")).split(" | ")
            assert row[column] == f"{medians[0] / medians[1]:.2f} / {medians[2] / medians[3]:.2f}"
    if not tensorrt_installed():
        assert "TensorRT is not installed" in result(record, "tensorrt-fp16", "Res48")["not_run"]
        assert "| TensorRT FP16 plan | could not run: TensorRT is not installed" in out

    floor = {f["model"]: f for f in record["floor"]}
    assert set(floor) == {"Res48", "Res128"}
    assert 0 < floor["Res48"]["fraction_of_peak"] and floor["Res48"]["floor_ms"] > 0
    assert "| Tesla K80 (paper, §4.5.2) | 1024x436 | 41.0 | 98.0 | 2.39 |" in out
    assert "| Res48 | 0.13 |" in out  # GFLOP per 64x48 frame, the up block folded
    if "--plot" in argv:
        assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_end_to_end_tiny(checkpoint, tmp_path, capsys):
    frames = [np.roll(make_texture(48, 64, seed=1), 2 * t, axis=1) for t in range(12)]
    video = write_video(tmp_path / "clip.mp4", frames, fps=10, audio="aac")
    code, out, err = invoke(main, capsys, ["--video", video, "--engine", checkpoint, "--backend", "torch",
                                           "--frames", "2", "--warmup", "0", "--json", tmp_path / "e2e.json"])
    assert code == 0, err
    record = json.loads((tmp_path / "e2e.json").read_text(), parse_constant=reject_non_json)
    assert record["mode"] == "end-to-end" and record["machine"]["cores"] >= 1
    run = record["results"][0]
    assert run["frames"] == 12 and run["frame"] == [64, 48] and run["backend"].startswith("PyTorch (CPU")
    assert run["stylize_only"]["frames"] == 2 and set(run["stage_fps"]) == {"decode", "stylize", "encode"}
    assert run["end_to_end_fps"] == pytest.approx(12 / run["wall_s"])
    assert run["efficiency"] == pytest.approx(run["end_to_end_fps"] / run["stylize_only"]["fps"])
    assert "| clip.mp4 | 64x48 |" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "e2e.json"]  # no video left


@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="pip install 'vst[bench]'")
def test_profile_times_every_layer_and_counts_the_convolutions(tmp_path, capsys):
    code, out, err = invoke(main, capsys, ["--profile", "64x48,96x64", "--frames", "2", "--json", tmp_path / "p.json"])
    assert code == 0, err
    assert "64x48, " in out and "96x64, " in out
    assert "| convolution | 15 |" in out and "| transposed convolution (folded up block) | 1 |" in out
    record = json.loads((tmp_path / "p.json").read_text())
    small, large = record["profiles"]
    convs, large_convs = ([layer for layer in p["layers"] if layer["flops"]] for p in (small, large))
    assert len(convs) == len(large_convs) == 16 and all(layer["ms"] >= 0 for layer in small["layers"])
    # the same network at 2x the pixels: 2x the FLOPs, layer for layer (the transposed ones
    # work on their input padded by one pixel, a little under 2x)
    for one, two in zip(convs, large_convs):
        assert one["kind"] == two["kind"]
        if one["kind"] == "Convolution":
            assert two["flops"] == 2 * one["flops"]
        else:
            assert 1.8 * one["flops"] < two["flops"] < 2 * one["flops"]
    assert sum(k["ms"] for k in small["by_kind"]) == pytest.approx(small["counted_ms"], abs=0.01)


@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="pip install 'vst[bench]'")
def test_profile_of_any_exported_model_in_the_precision_asked(onnx_model, tmp_path, capsys):
    argv = ["--profile", "64x48", "--engine", onnx_model, "--precision", "fp32", "--frames", "1", "--json", tmp_path / "p.json"]
    code, out, err = invoke(main, capsys, argv)
    assert code == 0, err
    named = f"--engine {portable(onnx_model)}"  # as records name paths
    assert out.startswith(f"Profile of {named} on OpenVINO in FP32, ")  # not what vst-run would pick
    record = json.loads((tmp_path / "p.json").read_text())
    assert record["model"] == named and record["profiles"][0]["precision"] == "fp32"
    assert "| convolution | 14 |" in out  # the fixture's: the paper's decoder, its up blocks transposed convolutions


def test_a_shipped_style_in_int8_beside_bf16_and_the_up_blocks_as_trained(tmp_path, capsys, monkeypatch):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf", reason="pip install nncf")
    # the shipped files, as vst-run runs them: neither exported nor quantized again here
    monkeypatch.setattr("vst.benchmarks.runners.export_onnx", lambda *args: pytest.fail("exported"))
    monkeypatch.setattr("vst.engine.int8.quantize", lambda graph: pytest.fail("quantized"))
    argv = ["--res", "96x64", "--frames", "2", "--warmup", "1", "--style", "candy",
            "--backends", "openvino-int8,openvino-bf16,openvino-bf16-unfolded,openvino-fp32", "--json", tmp_path / "b.json"]
    code, out, err = invoke(main, capsys, argv)
    assert code == 0, err
    record = json.loads((tmp_path / "b.json").read_text(), parse_constant=reject_non_json)
    assert record["settings"]["weights"] == "the shipped style candy" and record["settings"]["columns"] == ["candy"]
    int8 = result(record, "openvino-int8", "candy")
    if int8["not_run"] is None:  # a CPU with INT8 dot products (AVX2, VNNI or AMX)
        assert int8["precision"] == "int8" and int8["psnr_vs_fp32_db"] >= 38  # the gate
    for key in ("openvino-bf16", "openvino-bf16-unfolded"):
        row = result(record, key, "candy")
        assert row["not_run"] or row["psnr_vs_fp32_db"] > 35
    assert all(floor["precision"] != "int8" for floor in record["floor"])  # no INT8 peak is measured


def test_a_checkpoint_is_timed_beside_a_shipped_style_each_in_its_column(tmp_path, capsys, checkpoint):
    """The way a style is set beside the network it replaced: `--style NAME --engine OLD.pt`."""
    pytest.importorskip("openvino")
    argv = ["--res", "96x64", "--frames", "2", "--warmup", "1", "--style", "candy", "--engine", checkpoint,
            "--backends", "openvino-fp32,torch-cpu-fp32", "--json", tmp_path / "b.json"]
    code, out, err = invoke(main, capsys, argv)
    assert code == 0, err
    record = json.loads((tmp_path / "b.json").read_text(), parse_constant=reject_non_json)
    assert record["settings"]["columns"] == ["candy", "texture"]
    assert record["settings"]["weights"] == f"the shipped style candy and the checkpoint {portable(checkpoint)}"
    assert "| backend | timing | candy ms/frame | texture ms/frame | candy fps | texture fps |" in out
    # each column is its own network: the shipped style's and the checkpoint's FLOPs
    costs = {m["model"]: m["flops"] for m in record["models"]}
    assert costs == {name: model_cost(fold_upsampling(Checkpoint.load(path).stylizer), 96, 64).flops
                     for name, path in (("candy", shipped_checkpoint("candy")), ("texture", checkpoint))}
    for model in ("candy", "texture"):
        row = result(record, "openvino-fp32", model)
        assert row["with_copies"]["frames"] == 2 and (row["identical_to_fp32"] or row["psnr_vs_fp32_db"] > 35)
    assert {floor["model"] for floor in record["floor"]} == {"candy", "texture"}


@pytest.mark.parametrize("argv,message", [
    (["--backends", "cuda"], "choose from tensorrt-fp16,torch-cuda-fp16"),
    (["--res", "64"], "is not WIDTHxHEIGHT"),
    (["--res", "100000x100000"], "'100000x100000': at most 8192 pixels a side"),
    (["--res", "64x48", "--strength", "nan"], "'nan' is not a finite number"),
    (["--clip", "missing.mp4", "--res", "64x48"], "missing.mp4: no such file"),
    (["--engine", "x.plan"], "--engine x.plan: stylize-only timing takes a checkpoint, NAME.pt"),
    (["--engine", "gone.pt"], "gone.pt: no such checkpoint"),
    (["--backend", "openvino"], "--backend, --precision, --height and --max-frames go with --video"),
    (["--precision", "int8"], "--backend, --precision, --height and --max-frames go with --video"),
    (["--preset", "ultrafast"], "--crf and --preset go with --video"),
    (["--style", "nope"], "no shipped style 'nope'; shipped: candy"),
    (["--style", "candy", "--models", "128"], "--style and --engine time their own network and weights: drop --models"),
    (["--video", "x.mp4"], "--video needs one of --engine FILE or --style NAME"),
    (["--video", "x.mp4", "--style", "candy", "--plot", "x.png"], "--plot charts the stylize-only timing"),
    (["--json", "no/such/folder/x.json"], "output folder does not exist"),
    (["--profile", "64x48,big"], "--profile '64x48,big'"),
    (["--profile", "64x48", "--style", "nope"], "no shipped style 'nope'"),
    (["--profile", "8x8"], "frames of at least 16x16"),
    (["--profile", "64x48", "--video", "x.mp4"], "--profile goes with --style or --engine"),
    (["--profile", "64x48", "--backend", "onnxruntime"], "--profile goes with --style or --engine"),
    (["--profile", "64x48", "--engine", "candy.pt"], "--profile --engine candy.pt: give an ONNX file"),
    (["--profile", "64x48", "--engine", "gone.onnx"], "gone.onnx: no such engine file"),
    (["--profile", "64x48", "--engine", "x.onnx", "--style", "candy"], "--profile takes one of --style NAME or --engine"),
])
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    code, _, err = invoke(main, capsys, argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(tensorrt_installed(), reason="TensorRT is installed here")
def test_nothing_to_run_exits_1_after_the_table(capsys):
    code, out, err = invoke(main, capsys, ["--res", "64x48", "--backends", "tensorrt-fp16"])
    assert code == 1 and "none of the chosen backends can run here" in err
    assert "could not run: TensorRT is not installed" in out


def test_the_onnxruntime_row_times_the_exported_graph(checkpoint):
    """The checkpoint fixture's weights, whose FP32 export other tests make too (once a run)."""
    pytest.importorskip("onnxruntime", reason="pip install 'vst[export]'")
    from vst.benchmarks.runners import BENCH_BACKENDS, BenchModel
    from vst.benchmarks.stylize_only import StylizeBench, bench_backends
    from vst.engine.torch_runner import TorchRunner

    onnxruntime = next(b for b in BENCH_BACKENDS if b.key == "onnxruntime-cpu-fp32")
    frames = [make_texture(48, 64)[None]]
    model = BenchModel(Checkpoint.load(checkpoint).stylizer)
    reference = TorchRunner(model.stylizer, "cpu", "fp32")(frames[0])
    settings = StylizeBench(64, 48, Path("unused.mp4"), frames=2, warmup=1)
    (done,) = bench_backends([onnxruntime], model, frames, reference, settings)
    assert done.not_run is None and done.compute_only is None and done.with_copies.frames == 2
    assert done.identical or done.psnr_db > 40


def test_tensorrt_bench_calls_exist_in_the_11_4_bindings(tensorrt_11_4_names, checkpoint):
    """The bench's TensorRT path (plan build, upload, execute, events) against stand-ins
    that know only 11.4's names; the stand-ins compute nothing, so no figure is looked at.
    The checkpoint fixture's weights: its FP16 export is made once for this and test_export."""
    pytest.importorskip("onnxruntime", reason="pip install 'vst[export]'")
    from vst.benchmarks.runners import BENCH_BACKENDS, BenchModel
    from vst.benchmarks.stylize_only import StylizeBench, bench_backends

    tensorrt = next(b for b in BENCH_BACKENDS if b.key == "tensorrt-fp16")
    assert tensorrt.missing() is None
    frames = [np.zeros((1, 48, 64, 3), np.uint8)]
    settings = StylizeBench(64, 48, Path("unused.mp4"), frames=2, warmup=1)
    model = BenchModel(Checkpoint.load(checkpoint).stylizer)
    (done,) = bench_backends([tensorrt], model, frames, frames[0], settings)
    assert done.not_run is None and done.with_copies.frames == done.compute_only.frames == 2
    calls = [c[1] for c in tensorrt_11_4_names.calls]
    assert "build_serialized_network" in calls and "execute_async_v3" in calls
