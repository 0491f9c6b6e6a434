"""vst-run on generated clips, the sample clip (and real ones from ../shared/data): frame
count, fps, duration and audio survive through the PyTorch, OpenVINO and ONNX Runtime
backends, which agree; --backend auto's rule; every bad input (and impossible --backend)
gets one line, exit 2 and no output file; Ctrl-C leaves nothing behind."""
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from vst.core.checkpoint import Checkpoint
from vst.engine import cli
from vst.engine.runner import Runner

from bindings_11_4 import tensorrt_installed
from invoke import invoke
from media import make_texture, write_video

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "bigbuckbunny.mp4"


def probe(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        decoded = list(container.decode(video=0))
        frames = [f.to_ndarray(format="rgb24") for f in decoded]
        return {"frames": len(frames), "times": [float(f.time) for f in decoded],
                "size": (video.width, video.height),
                "duration": container.duration / av.time_base, "pixels": np.stack(frames),
                "audio": [s.codec_context.name for s in container.streams.audio]}


def clip(folder: Path, name: str, codec="libx264", audio="aac", size=(48, 64), count=12) -> Path:
    frames = [np.roll(make_texture(*size, seed=1), 2 * t, axis=1) for t in range(count)]
    return write_video(folder / name, frames, fps=10, codec=codec, audio=audio)


def run(capsys, argv) -> tuple[int, str, str]:
    return invoke(cli.main, capsys, argv)


def assert_same_timing(source: Path, output: Path) -> dict:
    a, b = probe(source), probe(output)
    # every frame at its input time: frame rate, variable rate and gaps all survive; AVI has
    # no presentation times (its decoders report them shifted), so there: at the frame rate
    avi = source.suffix == ".avi"
    times = [i * 0.1 for i in range(a["frames"])] if avi else a["times"]
    assert b["frames"] == a["frames"] and b["times"] == pytest.approx(times, abs=1e-3)
    assert b["duration"] == pytest.approx(a["frames"] * 0.1 if avi else a["duration"], abs=0.05)
    return b


# what each --backend needs here, beyond torch, and the start of the name vst-run reports
NEEDS = {"torch": (), "openvino": ("openvino",), "onnxruntime": ("onnxruntime",)}
NAMES = {"torch": "PyTorch (", "openvino": "OpenVINO (CPU, ", "onnxruntime": "ONNX Runtime ("}
MODELS_ON = [("checkpoint", "torch"), ("checkpoint", "openvino"), ("checkpoint", "onnxruntime"),
             ("onnx_model", "openvino"), ("onnx_model", "onnxruntime")]


def model_on(request, engine: str, backend: str) -> Path:
    """The fixture `engine` (a .pt or .onnx), skipping where `backend` is not installed."""
    for module in NEEDS[backend]:
        pytest.importorskip(module)
    return request.getfixturevalue(engine)


@pytest.mark.parametrize("engine,backend", MODELS_ON)
def test_backends_keep_frames_fps_duration_and_audio(engine, backend, request, tmp_path, capsys):
    model = model_on(request, engine, backend)
    source = clip(tmp_path, "in.mp4")
    code, out, err = run(capsys, [source, "--engine", model, "--backend", backend, "-o", tmp_path / "out.mp4"])
    assert code == 0, err
    result = assert_same_timing(source, tmp_path / "out.mp4")
    assert result["audio"] == ["aac"] and result["size"] == (64, 48)
    assert np.abs(result["pixels"].astype(int) - probe(source)["pixels"]).mean() > 5
    assert "12 frames 64x48 at 10 fps, audio copied (aac)" in out and f"({NAMES[backend]}" in out


@pytest.fixture(scope="module")
def pytorch_output(checkpoint, tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A clip without audio, and its frames as vst-run --backend torch writes them (CRF 0)."""
    folder = tmp_path_factory.mktemp("agree")
    source = clip(folder, "in.mp4", audio=None)
    cli.main([str(source), "--engine", str(checkpoint), "--backend", "torch", "--crf", "0",
              "-o", str(folder / "torch.mp4")])
    return source, probe(folder / "torch.mp4")["pixels"]


@pytest.mark.parametrize("engine,backend", MODELS_ON[1:])
def test_backends_agree_with_pytorch(engine, backend, request, pytorch_output, backend_levels, tmp_path, capsys):
    model = model_on(request, engine, backend)
    source, expected = pytorch_output
    assert run(capsys, [source, "--engine", model, "--backend", backend, "--crf", "0", "-o", tmp_path / "o.mp4"])[0] == 0
    assert np.abs(probe(tmp_path / "o.mp4")["pixels"].astype(int) - expected).mean() < backend_levels


def test_side_by_side_no_audio_height_and_max_frames(checkpoint, tmp_path, capsys):
    source = clip(tmp_path, "in.mp4")
    assert run(capsys, [source, "--engine", checkpoint, "--side-by-side", "--no-audio", "-o", tmp_path / "sbs.mp4"])[0] == 0
    result = probe(tmp_path / "sbs.mp4")
    assert result["size"] == (128, 48) and result["audio"] == []
    assert np.abs(result["pixels"][:, :, :64].astype(int) - probe(source)["pixels"]).mean() < 3  # left = input
    assert run(capsys, [source, "--engine", checkpoint, "--height", "24", "--max-frames", "5", "-o", tmp_path / "s.mp4"])[0] == 0
    result = probe(tmp_path / "s.mp4")
    assert result["size"] == (32, 24) and result["frames"] == 5


@pytest.mark.parametrize("name,codec,audio,size", [
    ("in.webm", "libvpx-vp9", "libopus", (48, 64)),
    ("in.avi", "mpeg4", "mp3", (48, 64)),
    ("odd.mp4", "libx264", None, (29, 37)),
])
def test_containers_and_odd_sizes(name, codec, audio, size, checkpoint, tmp_path, capsys):
    source = clip(tmp_path, name, codec=codec, audio=audio, size=size)
    code, _, err = run(capsys, [source, "--engine", checkpoint])
    assert code == 0, err
    output = tmp_path / f"{source.stem}.texture.mp4"  # the default name
    result = assert_same_timing(source, output)
    assert result["size"] == (size[1], size[0]) and len(result["audio"]) == (audio is not None)


def test_display_rotation_is_kept(checkpoint, tmp_path, capsys):
    frames = [make_texture(48, 64, seed=t) for t in range(3)]
    source = write_video(tmp_path / "phone.mp4", frames, rotation=90)
    assert run(capsys, [source, "--engine", checkpoint, "-o", tmp_path / "o.mp4"])[0] == 0
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert next(container.decode(video=0)).rotation == 90


def shown(path: Path) -> np.ndarray:
    """A video's first frame as players show it: turned by its display rotation."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return np.rot90(frame.to_ndarray(format="rgb24"), round(frame.rotation / 90))


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_height_and_side_by_side_are_as_a_turned_video_is_shown(rotation, checkpoint, tmp_path, capsys):
    stored = np.zeros((48, 64, 3), np.uint8)
    stored[:, 32:] = 200
    source = write_video(tmp_path / "phone.mp4", [stored] * 3, rotation=rotation)
    upright = shown(source)
    run_args = [source, "--engine", checkpoint, "--backend", "torch", "--strength", "0", "--crf", "0"]
    assert run(capsys, [*run_args, "--height", "32", "-o", tmp_path / "small.mp4"])[0] == 0
    assert shown(tmp_path / "small.mp4").shape[0] == 32  # shown 32 high, whichever way its frames lie
    assert run(capsys, [*run_args, "--side-by-side", "-o", tmp_path / "both.mp4"])[0] == 0
    both = shown(tmp_path / "both.mp4").astype(int)
    height, width = upright.shape[:2]
    assert both.shape[:2] == (height, 2 * width)  # input | output, side by side as shown
    for half in (both[:, :width], both[:, width:]):
        assert np.abs(half - upright).mean() < 4


def test_the_halves_of_side_by_side_turned_frames():
    from vst.engine.job import input_beside_output

    source, stylized = np.zeros((4, 6, 1), np.uint8), np.ones((4, 6, 1), np.uint8)
    for turns in (0, 1, 2, 3, -1):
        joined = np.rot90(input_beside_output(source, stylized, turns), turns)
        assert joined.shape == (*np.rot90(source, turns).shape[:2] * np.array([1, 2]), 1)
        half = joined.shape[1] // 2
        assert (joined[:, :half] == 0).all() and (joined[:, half:] == 1).all()


def test_real_clips(shared_data, checkpoint, tmp_path, capsys):
    for video in ["opencv_tutorial/vtest.avi", "decord/flipping_a_pancake.mkv"]:
        code, out, err = run(capsys, [shared_data / "videos" / video, "--engine", checkpoint,
                                      "--height", "96", "--max-frames", "8", "-o", tmp_path / "o.mp4"])
        assert code == 0, err
        assert probe(tmp_path / "o.mp4")["frames"] == 8


@pytest.mark.parametrize("backend", ["auto", "openvino", "torch"])
def test_the_shipped_sample_through_the_shipped_style(backend, tmp_path, capsys):
    from vst.engine.choice import auto_backend

    for module in NEEDS.get(backend, ()):
        pytest.importorskip(module)
    code, out, err = run(capsys, [SAMPLE, "--style", "candy", "--backend", backend, "--max-frames", "10",
                                  "-o", tmp_path / "o.mp4"])
    assert code == 0, err
    result, source = probe(tmp_path / "o.mp4"), probe(SAMPLE)
    assert result["frames"] == 10 and result["audio"] == ["aac"] and result["size"] == (480, 270)
    assert result["times"] == pytest.approx(source["times"][:10], abs=1e-3)
    assert f"({NAMES[auto_backend('style') if backend == 'auto' else backend]}" in out


def test_auto_picks_the_fastest_backend_installed(monkeypatch):
    from vst.engine import choice

    def picks(cuda=False, onnxruntime_cuda=False, missing=()) -> dict[str, str]:
        monkeypatch.setattr(choice, "cuda_available", lambda: cuda)
        monkeypatch.setattr(choice, "onnxruntime_has_cuda", lambda: onnxruntime_cuda)
        monkeypatch.setattr(choice, "installed", lambda *modules: not set(modules) & set(missing))
        return {kind: choice.auto_backend(kind) for kind in ("plan", "onnx", "checkpoint")}

    assert picks() == {"plan": "tensorrt", "onnx": "openvino", "checkpoint": "openvino"}
    assert picks(missing=["openvino"]) == {"plan": "tensorrt", "onnx": "onnxruntime", "checkpoint": "onnxruntime"}
    assert picks(missing=["openvino", "onnxscript"])["checkpoint"] == "torch"  # no in-memory export
    assert picks(cuda=True) == {"plan": "tensorrt", "onnx": "openvino", "checkpoint": "torch"}
    assert picks(cuda=True, onnxruntime_cuda=True) == {"plan": "tensorrt", "onnx": "onnxruntime", "checkpoint": "torch"}


def refused(capsys, argv, message, tmp_path):
    code, _, err = run(capsys, argv)
    assert code == 2 and message in err.strip().splitlines()[-1], err
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # temporaries are .NAME.PID.tmp


def test_bad_input(checkpoint, monkeypatch, tmp_path, capsys):
    source = clip(tmp_path, "in.mp4")
    (tmp_path / "notes.mp4").write_text("not a video")
    data = (tmp_path / "in.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[:len(data) // 2])
    with av.open(str(tmp_path / "empty.mp4"), "w") as container:  # header, no frames
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = 64, 48
        container.start_encoding()
    mkv = clip(tmp_path, "in.mkv", audio=None).read_bytes()
    (tmp_path / "cut.mkv").write_bytes(mkv[:len(mkv) * 6 // 10])  # first cluster incomplete
    (tmp_path / "x.plan").write_bytes(b"plan")
    (tmp_path / "x.onnx").write_bytes(b"onnx")
    run_args = ["--engine", checkpoint, "--backend", "torch"]  # opens fastest; every backend refuses alike
    refused(capsys, [tmp_path / "missing.mp4", *run_args], "no such file", tmp_path)
    refused(capsys, [tmp_path / "notes.mp4", *run_args], "not a readable video", tmp_path)
    refused(capsys, [tmp_path / "cut.mp4", *run_args], "not a readable video", tmp_path)
    refused(capsys, [tmp_path / "empty.mp4", *run_args], "has no video stream", tmp_path)
    refused(capsys, [tmp_path / "cut.mkv", *run_args, "-o", tmp_path / "e.mp4"], "no frame could be decoded", tmp_path)
    assert not (tmp_path / "e.mp4").exists()
    refused(capsys, [source, *run_args, "-o", tmp_path / "no" / "o.mp4"], "output folder does not exist", tmp_path)
    refused(capsys, [source, *run_args, "-o", tmp_path / "o.gif"], "unknown container", tmp_path)
    refused(capsys, [source, *run_args, "-o", source], "would overwrite the input", tmp_path)
    # planned before the model is opened: no checkpoint is read for an input refused anyway
    refused(capsys, [source, "--engine", tmp_path / "missing.pt", "-o", source], "would overwrite the input", tmp_path)
    refused(capsys, [source, "--style", "nope"], "no shipped style 'nope'", tmp_path)
    refused(capsys, [source], "give one of --engine FILE or --style NAME", tmp_path)
    refused(capsys, [source, "--style", "candy", "--engine", checkpoint], "give --engine FILE or --style NAME, not both", tmp_path)
    refused(capsys, [source, "--engine", tmp_path / "notes.mp4"], "unknown engine type", tmp_path)
    refused(capsys, [source, *run_args, "--codec", "no-such-codec"], "codec 'no-such-codec' is not available", tmp_path)
    refused(capsys, [source, *run_args[:2], "--backend", "cuda"], "Invalid value for '--backend'", tmp_path)
    refused(capsys, [source, "--engine", tmp_path / "x.plan", "--backend", "openvino"],
            "--backend openvino runs a .onnx, a .pt or --style; this model runs on --backend auto or tensorrt", tmp_path)
    refused(capsys, [source, "--engine", tmp_path / "x.onnx", "--backend", "torch"],
            "--backend torch runs a .pt or --style; this model runs on --backend auto or openvino or onnxruntime",
            tmp_path)
    refused(capsys, [source, "--style", "candy", "--backend", "tensorrt"], "--style candy: --backend tensorrt runs a .plan",
            tmp_path)
    monkeypatch.setattr("vst.engine.choice.installed", lambda *modules: "openvino" not in modules)
    refused(capsys, [source, "--style", "candy", "--backend", "openvino"],
            "--style candy: the openvino backend needs openvino, not installed here (pip install openvino)", tmp_path)


def test_truncated_video_keeps_what_decodes_and_says_so(checkpoint, tmp_path, capsys):
    frames = [make_texture(48, 64, seed=t) for t in range(12)]  # frames of similar size
    data = write_video(tmp_path / "in.mkv", frames, fps=10).read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[:len(data) * 6 // 10])
    code, _, err = run(capsys, [tmp_path / "cut.mkv", "--engine", checkpoint, "-o", tmp_path / "o.mp4"])
    assert code == 2 and "truncated" in err.strip().splitlines()[-1], err
    assert 0 < probe(tmp_path / "o.mp4")["frames"] < 12


def test_a_damaged_packet_costs_its_frames_alone(checkpoint, tmp_path, capsys):
    frames = [make_texture(48, 64, seed=t) for t in range(30)]
    source = write_video(tmp_path / "in.mp4", frames, fps=10, audio="aac")
    data = bytearray(source.read_bytes())
    with av.open(str(source)) as container:  # the 21st video packet's bytes overwritten, as a bad sector would
        packet = [p for p in container.demux(video=0) if p.size][20]
        data[packet.pos:packet.pos + packet.size] = b"\xff" * packet.size
    (tmp_path / "bad.mp4").write_bytes(data)
    code, _, err = run(capsys, [tmp_path / "bad.mp4", "--engine", checkpoint, "-o", tmp_path / "o.mp4"])
    last = err.strip().splitlines()[-1]
    assert code == 2 and "bad.mp4: damaged: 1 video packet did not decode (" in last, err
    written = probe(tmp_path / "o.mp4")
    assert 20 < written["frames"] < 30  # the frames after it that decode, not only those before


def test_ctrl_c_leaves_no_output(monkeypatch, tmp_path, capsys):
    calls = []

    def interrupt(frames):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return frames

    monkeypatch.setattr("vst.engine.runner.open_runner",
                        lambda engine, style, backend, mix, precision: Runner("stand-in", "x", interrupt))
    source = clip(tmp_path, "in.mp4")
    code, _, err = run(capsys, [source, "--style", "x", "-o", tmp_path / "o.mp4"])
    assert code == 130 and "interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


@pytest.mark.skipif(tensorrt_installed(), reason="TensorRT is installed here")
def test_plan_without_tensorrt_exits_3(tmp_path, capsys):
    source = clip(tmp_path, "in.mp4")
    (tmp_path / "x.plan").write_bytes(b"plan")
    (tmp_path / "x.plan.json").write_text('{"style": "x", "width": 48, "upsample": "deconv", '
                                         '"precision": "fp16", "opset": 20}')
    code, _, err = run(capsys, [source, "--engine", tmp_path / "x.plan"])
    assert code == 3 and "TensorRT is not installed" in err


def test_list_styles(capsys):
    code, out, _ = run(capsys, ["--list-styles"])
    assert code == 0 and "candy" in out.split()


def test_pipeline_keeps_container_order_with_two_frames_in_flight():
    from fractions import Fraction

    from vst.engine.pipeline import run_pipeline
    from vst.engine.video_io import Frame

    frames = [Frame(np.full((2, 2, 3), i, np.uint8), i, Fraction(1, 10)) for i in range(4)]
    items = [frames[0], "audio0", frames[1], frames[2], "audio1", frames[3]]
    events, written = [], []

    def submit(x):
        events.append(("submit", int(x[0, 0, 0, 0])))
        return x + 1

    def collect(result):
        events.append(("collect", int(result[0, 0, 0, 0]) - 1))
        return result

    times = run_pipeline(items, submit, lambda pixels, f: written.append((f.pts, int(pixels[0, 0, 0]))),
                         written.append, collect=collect, depth=2)
    assert written == [(0, 1), "audio0", (1, 2), (2, 3), "audio1", (3, 4)]
    assert events[:4] == [("submit", 0), ("submit", 1), ("collect", 0), ("submit", 2)]  # overlap
    assert times.frames == 4


def test_the_queues_hold_fewer_frames_the_larger_they_are():
    import time
    from fractions import Fraction

    from vst.engine.pipeline import QUEUE_FRAMES, queue_frames, run_pipeline
    from vst.engine.video_io import Frame

    assert [queue_frames(*size) for size in ((480, 270), (1920, 1080), (2560, 1440), (3840, 2160))] == \
        [QUEUE_FRAMES, QUEUE_FRAMES, 6, 2]

    def decoder_ahead(queued: int) -> int:
        """How many frames the decoder ran ahead of a slow stylizer, at most."""
        decoded, ahead = [], []

        def frames():
            for i in range(12):
                decoded.append(i)
                yield Frame(np.full((2, 2, 3), i, np.uint8), i, Fraction(1, 10))

        def submit(x):
            ahead.append(len(decoded) - int(x[0, 0, 0, 0]) - 1)
            time.sleep(0.02)
            return x
        run_pipeline(frames(), submit, lambda pixels, f: None, lambda item: None, queued=queued)
        return max(ahead)

    assert decoder_ahead(2) <= 3  # two in the queue, one waiting to go in
    assert decoder_ahead(QUEUE_FRAMES) > 3


def test_cpu_bf16_precision_gate(checkpoint, monkeypatch, tmp_path, capsys):
    from vst.core.quality import reference_frame
    from vst.engine.torch_runner import TorchRunner, native_precision

    stylizer = Checkpoint.load(checkpoint).stylizer
    bf16 = TorchRunner(stylizer, "cpu", "bf16")
    assert (bf16.precision, bf16.notice, bf16.label) == ("bf16", None, "PyTorch (CPU, BF16)")

    monkeypatch.setattr("vst.engine.precision.BF16_MIN_PSNR", 1000.0)  # no BF16 output can pass
    fallback = TorchRunner(stylizer, "cpu", "bf16")
    assert fallback.precision == "fp32" and "running in FP32" in fallback.notice
    frame = reference_frame((64, 96))
    assert np.array_equal(fallback(frame), TorchRunner(stylizer, "cpu", "fp32")(frame))

    monkeypatch.setattr("vst.engine.torch_runner.has_native_bf16", lambda: True)
    code, out, err = run(capsys, [clip(tmp_path, "in.mp4"), "--engine", checkpoint, "--backend", "torch",
                                  "-o", tmp_path / "o.mp4"])
    assert code == 0 and "running in FP32" in err and "PyTorch (CPU, FP32)" in out
    monkeypatch.setattr("vst.engine.torch_runner.has_native_bf16", lambda: False)
    assert native_precision(torch.device("cpu")) == "fp32"


def test_openvino_refuses_files_not_from_vst_export_in_one_line(onnx_model, tmp_path, capsys):
    pytest.importorskip("openvino")
    import onnx

    source = clip(tmp_path, "in.mp4")
    (tmp_path / "notes.onnx").write_text("not a model")
    foreign = onnx.load(str(onnx_model))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    for name, message in (("notes.onnx", "not a readable ONNX file"), ("foreign.onnx", "not exported by vst-export")):
        code, _, err = run(capsys, [source, "--engine", tmp_path / name, "--backend", "openvino"])
        lines = err.strip().splitlines()  # the frontends' own logging would add lines
        assert code == 2 and len(lines) == 1 and lines[0].startswith(f"vst-run: error: {tmp_path / name}: {message}"), err


def test_openvino_precision_gate_in_vst_run(checkpoint, monkeypatch, tmp_path, capsys):
    ov = pytest.importorskip("openvino")
    from vst.engine.openvino_runner import reports_bf16

    if not reports_bf16(ov.Core()):
        pytest.skip("OpenVINO reports no BF16 on this CPU")
    code, out, _ = run(capsys, [clip(tmp_path, "in.mp4"), "--engine", checkpoint, "--backend", "openvino",
                                "-o", tmp_path / "bf16.mp4"])
    assert code == 0 and "OpenVINO (CPU, BF16)" in out
    monkeypatch.setattr("vst.engine.precision.BF16_MIN_PSNR", 1000.0)  # no BF16 output can pass
    code, out, err = run(capsys, [clip(tmp_path, "in.mp4"), "--engine", checkpoint, "--backend", "openvino",
                                  "-o", tmp_path / "fp32.mp4"])
    assert code == 0 and "running in FP32" in err and "OpenVINO (CPU, FP32)" in out
