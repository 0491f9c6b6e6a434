"""vst-export: ONNX parity and dynamic shapes, FP16, the metadata record, every refusal, and
the TensorRT calls checked against the names of the real 11.4 bindings."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vst.core.checkpoint import Checkpoint
from vst.core.errors import InputError
from vst.core.stylizer import Stylizer
from vst.export.cli import main
from vst.core.frame_model import Float32InstanceNorm, frame_model
from vst.core.metadata import (ArtifactMetadata, ShapeProfile, plan_metadata_path, read_onnx_metadata,
                               read_plan_metadata, write_plan_metadata)
from vst.core.quality import psnr, reference_frame
from vst.export.tensorrt_plan import PlanSettings

from bindings_11_4 import FakeCudaDriver, tensorrt_installed

onnx = pytest.importorskip("onnx", reason="pip install 'vst[export]'")
pytest.importorskip("onnxruntime", reason="pip install 'vst[export]'")
from vst.core.onnx_runner import OnnxRunner  # noqa: E402
from vst.export.onnx_export import parity_error  # noqa: E402

@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A trained-looking checkpoint (random weights, seed 0) exported to FP32 and FP16 ONNX."""
    root = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    stylizer = Stylizer(48)
    Checkpoint(stylizer, "texture").save(root / "texture.pt")
    main([str(root / "texture.pt"), "-o", str(root / "texture.onnx"), "--fp16", "--onnx-only"])
    return root, stylizer


def test_frame_model_keeps_size_and_runs_instance_norm_in_fp32():
    stylizer = Stylizer(48).eval()
    frames = torch.randint(0, 256, (2, 37, 53, 3), dtype=torch.uint8)
    with torch.no_grad():
        assert frame_model(stylizer, "fp32")(frames).shape == (2, 37, 53, 3)
    fp16 = frame_model(stylizer, "fp16")
    norms = [m for m in fp16.modules() if isinstance(m, Float32InstanceNorm)]
    assert len(norms) == 15 and all(m.norm.weight.dtype == torch.float32 for m in norms)
    assert next(stylizer.parameters()).dtype == torch.float32  # the original is untouched
    convs = [m for m in fp16.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(m.weight.dtype == torch.float16 for m in convs)


def test_onnx_matches_pytorch_and_one_model_takes_any_size(exported):
    root, stylizer = exported
    runner = OnnxRunner(root / "texture.onnx")
    assert parity_error(stylizer, runner) <= 1
    for shape in [(1, 5, 7, 3), (2, 61, 33, 3), (1, 270, 480, 3)]:
        frames = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        out = runner(frames)
        assert out.shape == shape and out.dtype == np.uint8
    frame = reference_frame()
    assert np.abs(runner(frame).astype(int) - frame).mean() > 5  # it restyles, not copies
    model = onnx.load(str(root / "texture.onnx"))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "height", "width", 3]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8


@pytest.mark.parametrize("upsample", ["resize", "bilinear", "subpixel"])
def test_the_resize_and_sub_pixel_upsamplers_export_with_any_size(upsample, tmp_path):
    torch.manual_seed(0)
    stylizer = Stylizer(48, upsample)
    Checkpoint(stylizer, "texture").save(tmp_path / "texture.pt")
    main([str(tmp_path / "texture.pt"), "-o", str(tmp_path / "texture.onnx"), "--onnx-only"])
    runner = OnnxRunner(tmp_path / "texture.onnx")
    for size in [(64, 96), (37, 53)]:
        frame = reference_frame(size)
        with torch.no_grad():
            expected = frame_model(stylizer.eval(), "fp32")(torch.from_numpy(frame)).numpy()
        assert np.abs(runner(frame).astype(int) - expected.astype(int)).max() <= 1


def test_fp16_onnx_is_fp16_with_fp32_instance_norm_and_close_to_fp32(exported):
    root, _ = exported
    model = onnx.load(str(root / "texture.fp16.onnx"))
    conv_weights = {n.input[1] for n in model.graph.node if n.op_type == "Conv"}
    types = {i.name: i.data_type for i in model.graph.initializer}
    assert {types[w] for w in conv_weights if w in types} == {onnx.TensorProto.FLOAT16}
    norm_scales = {n.input[1] for n in model.graph.node if n.op_type == "InstanceNormalization"}
    assert {types[s] for s in norm_scales if s in types} == {onnx.TensorProto.FLOAT}
    frame = reference_frame()
    assert psnr(OnnxRunner(root / "texture.fp16.onnx")(frame), OnnxRunner(root / "texture.onnx")(frame)) >= 40


def test_psnr():
    a = np.zeros((4, 4), np.uint8)
    assert psnr(a, a) == float("inf")
    assert psnr(a, a + 1) == pytest.approx(20 * np.log10(255))


def test_metadata_travels_in_onnx_and_beside_plans(exported, tmp_path):
    root, _ = exported
    record = read_onnx_metadata(root / "texture.onnx")
    assert (record.style, record.width, record.upsample, record.precision, record.opset) == \
        ("texture", 48, "deconv", "fp32", 20)
    assert record.io.layout == "NHWC" and record.io.dtype == "uint8"
    assert read_onnx_metadata(root / "texture.fp16.onnx").precision == "fp16"

    plan = tmp_path / "x.plan"
    built = record.for_plan(ShapeProfile(), "10.8.0", "NVIDIA A100-SXM4-80GB", "8.0")
    write_plan_metadata(plan, built)
    assert read_plan_metadata(plan) == built
    assert built.check_plan_runs_here(plan, "10.8.0", "NVIDIA A100-SXM4-80GB", "8.0") is None
    assert "NVIDIA A30" in built.check_plan_runs_here(plan, "10.8.0", "NVIDIA A30", "8.0")
    with pytest.raises(InputError, match="built with TensorRT 10.8.0, this machine has TensorRT 11.4"):
        built.check_plan_runs_here(plan, "11.4.0.106", "NVIDIA A100-SXM4-80GB", "8.0")
    with pytest.raises(InputError, match=r"compute capability 8.0\), this GPU is NVIDIA H100 \(9.0\)"):
        built.check_plan_runs_here(plan, "10.8.0", "NVIDIA H100", "9.0")
    with pytest.raises(InputError, match="no x2.plan.json beside it"):
        read_plan_metadata(tmp_path / "x2.plan")


def test_metadata_of_other_frames_or_unreadable_is_refused(tmp_path):
    plan = tmp_path / "x.plan"
    record = json.loads(ArtifactMetadata("x", 48, "resize", "fp16", 20).to_json())
    plan_metadata_path(plan).write_text(json.dumps({**record, "io": {**record["io"], "layout": "NCHW"}}))
    with pytest.raises(InputError, match=r"x.plan.json: its frames are \{'layout': 'NCHW'.*this vst runs \{'layout': 'NHWC'"):
        read_plan_metadata(plan)
    plan_metadata_path(plan).write_text(json.dumps({**record, "mix": {"strength": 2.0}}))
    with pytest.raises(InputError, match="x.plan.json: unreadable vst metadata .ValueError: strength must be a number in"):
        read_plan_metadata(plan)
    plan_metadata_path(plan).write_text(json.dumps({**record, "profile": {"min": [4096, 4096]}}))
    with pytest.raises(InputError, match="x.plan.json: shape profile needs min <= opt <= max"):
        read_plan_metadata(plan)
    plan_metadata_path(plan).write_text(json.dumps({key: value for key, value in record.items() if key != "style"}))
    with pytest.raises(InputError, match="x.plan.json: unreadable vst metadata .TypeError"):
        read_plan_metadata(plan)


def test_onnx_carries_no_path_of_the_build_machine(exported):
    """The exporter's per-node stack traces name the venv and the checkout; shipped files must not."""
    import sys

    import vst
    root, _ = exported
    for name in ("texture.onnx", "texture.fp16.onnx"):
        content = (root / name).read_bytes()
        for path in (sys.prefix, str(Path(vst.__file__).resolve().parent), "site-packages"):
            assert path.encode() not in content, (name, path)


def run_export(capsys, argv):
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    return (exit_info.value.code or 0), err


@pytest.mark.skipif(tensorrt_installed(), reason="TensorRT is installed here")
def test_fp16_without_tensorrt_writes_onnx_then_exits_3(exported, capsys, tmp_path):
    root, _ = exported
    code, err = run_export(capsys, [str(root / "texture.pt"), "-o", str(tmp_path / "t.onnx"), "--fp16"])
    assert code == 3 and err.count("\n") == 1, err
    assert "no TensorRT plan built: TensorRT is not installed" in err and f"vst-export --from {tmp_path / 't.onnx'} --fp16" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.fp16.onnx", "t.onnx"]


def test_refusals(exported, capsys, tmp_path):
    root, _ = exported
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    stripped = onnx.load(str(root / "texture.onnx"))
    del stripped.metadata_props[:]
    onnx.save(stripped, str(tmp_path / "foreign.onnx"))
    cases = [
        ([str(tmp_path / "junk.pt")], "not a readable checkpoint"),
        ([str(tmp_path / "missing.pt")], "no such checkpoint"),
        ([str(root / "texture.pt"), "-o", str(tmp_path / "no" / "x.onnx")], "output folder does not exist"),
        ([str(root / "texture.pt"), "-o", str(tmp_path)], "is a folder; give the output file's name"),
        ([str(root / "texture.pt"), "-o", "."], ".: is a folder"),
        ([str(root / "texture.pt"), "-o", str(tmp_path / "out.txt")], "the ONNX file's name ends in .onnx"),
        (["--from", str(root / "texture.onnx"), "--fp16", "-o", str(tmp_path / "x.onnx")], "-o names a checkpoint's export"),
        (["--style", "no-such-style"], "no shipped style 'no-such-style'"),
        ([], "give exactly one of CHECKPOINT, --style NAME or --from NAME.onnx"),
        (["--from", str(tmp_path / "gone.onnx"), "--fp16"], "no such file"),
        (["--from", str(root / "texture.onnx")], "--from builds a TensorRT plan: add --fp16"),
        (["--from", str(tmp_path / "foreign.onnx"), "--fp16"], "not exported by vst-export"),
        (["--from", str(tmp_path / "junk.pt"), "--fp16"], "not a readable ONNX file"),
        ([str(root / "texture.pt"), "--min-res", "800x800", "--max-res", "640x640"], "needs min <= opt <= max"),
        ([str(root / "texture.pt"), "--max-res", "640"], "is not WIDTHxHEIGHT"),
    ]
    for argv, message in cases:
        code, err = run_export(capsys, argv)
        assert code == 2 and err.count("\n") == 1 and message in err, (argv, err)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["foreign.onnx", "junk.pt"]  # nothing written


def test_shape_outside_the_profile_is_refused():
    profile = ShapeProfile((256, 256), (1024, 436), (1920, 1088))
    profile.require(1024, 436)
    with pytest.raises(InputError, match="frame 200x300 is outside the plan's profile 256x256 ... 1024x436 ... 1920x1088"):
        profile.require(200, 300)


def test_tensorrt_calls_exist_in_the_11_4_bindings(exported, tensorrt_11_4_names, tmp_path):
    """Runs the build and run paths against stand-ins that know only 11.4's real names and
    signatures: an AttributeError here is a call that 11.4 does not have. Nothing is built."""
    from vst.export.tensorrt_plan import build_plan
    from vst.core.tensorrt_runner import TrtRunner

    root, _ = exported
    trt = tensorrt_11_4_names
    plan = tmp_path / "texture.plan"
    settings = PlanSettings(timing_cache=tmp_path / "timing.cache")
    record = build_plan(root / "texture.fp16.onnx", plan, read_onnx_metadata(root / "texture.fp16.onnx"), settings)
    assert plan.is_file() and (tmp_path / "timing.cache").is_file()
    assert json.loads((tmp_path / "texture.plan.json").read_text())["tensorrt_version"] == "11.4.0.106"
    assert (record.gpu_name, record.compute_capability, record.profile.opt) == ("NVIDIA H100 80GB HBM3", "9.0", (1024, 436))
    create = [c for c in trt.calls if c[1] == "create_network"]
    assert create == [("Builder", "create_network", (1,))]  # 1 << STRONGLY_TYPED (0 in 11.x)

    with pytest.raises(InputError, match="is FP32 and TensorRT 11.4.0.106 takes precision from the graph"):
        build_plan(root / "texture.onnx", tmp_path / "fp32.plan", read_onnx_metadata(root / "texture.onnx"), settings)

    runner = TrtRunner(plan)
    out = runner(np.zeros((1, 436, 1024, 3), np.uint8))
    assert out.shape == (1, 436, 1024, 3) and out.dtype == np.uint8
    with pytest.raises(InputError, match="outside the plan's profile"):
        runner(np.zeros((1, 100, 100, 3), np.uint8))
    runner.close()
    assert ("IExecutionContext", "execute_async_v3", (FakeCudaDriver.Stream.handle,)) in trt.calls

    stale = read_plan_metadata(plan).for_plan(record.profile, "10.8.0", record.gpu_name, "9.0")
    write_plan_metadata(plan, stale)
    with pytest.raises(InputError, match="built with TensorRT 10.8.0"):
        TrtRunner(plan)
