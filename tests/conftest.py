"""Shared fixtures: the optional real-data folder, a random-weight checkpoint and its ONNX
export, a smooth random texture, how far a CPU backend may be from FP32, the TensorRT 11.4 /
pycuda stand-ins in place of the real imports, and each ONNX export and OpenVINO conversion
made once per pytest run."""
import hashlib
from pathlib import Path

import pytest
import torch

from vst.core.cpu import has_native_bf16
from vst.core.style_mix import StyleMix

from bindings_11_4 import FakeCudaDriver, tensorrt_11_4
from media import make_texture

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"
TENSORRT_API = SHARED / "docs" / "tensorrt-11.4-api.txt"


def stylizer_key(stylizer) -> tuple:
    """What a stylizer's graphs are a function of: its weights (hashed), width and decoder."""
    weights = hashlib.sha256()
    for name, value in stylizer.state_dict().items():
        weights.update(name.encode() + value.detach().cpu().numpy().tobytes())
    return weights.hexdigest(), stylizer.width, stylizer.upsample


@pytest.fixture(scope="session", autouse=True)
def each_export_once():
    """torch.export takes 10-15 s a model on two cores, and many tests export the same
    random weights: each (weights, decoder, precision, mix, opset) is exported once per run.
    An export is a function of those alone, so a test gets what a fresh export gives, as a
    new ModelProto of its own to change."""
    from vst.core import onnx_graph
    from vst.export import onnx_export

    export, made = onnx_graph.stylizer_to_onnx, {}

    def exported_once(stylizer, precision, mix, opset):
        import onnx

        key = (stylizer_key(stylizer), precision, mix, opset)
        if key not in made:
            made[key] = export(stylizer, precision, mix, opset).SerializeToString()
        return onnx.ModelProto.FromString(made[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(onnx_graph, "stylizer_to_onnx", exported_once)
        patch.setattr(onnx_export, "stylizer_to_onnx", exported_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def each_conversion_once():
    """OpenVINO converts a checkpoint's traced graph in about 2 s a frame size, and many tests
    run the same random weights at the same sizes: each (weights, decoder, mix, fold, shape)
    is converted once per run (engine.openvino_runner.torch_graphs), and a test gets a clone
    of its own."""
    from vst.engine import openvino_runner

    convert, made = openvino_runner.torch_graphs, {}

    def converted_once(stylizer, mix=StyleMix(), fold=True):
        graphs, model = convert(stylizer, mix, fold), stylizer_key(stylizer)

        def at(shape):
            key = (model, mix, fold, tuple(shape))
            if key not in made:
                made[key] = graphs(shape)
            return made[key].clone()
        return at

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(openvino_runner, "torch_graphs", converted_once)
        patch.setattr("vst.benchmarks.runners.torch_graphs", converted_once)
        yield


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the checkout (real clips, photos, Sintel flow); skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """A Res48 checkpoint with random weights (seed 0) and style name "texture"."""
    from vst.core.checkpoint import Checkpoint
    from vst.core.stylizer import Stylizer

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("checkpoint") / "texture.pt"
    Checkpoint(Stylizer(48), "texture").save(path)
    return path


@pytest.fixture(scope="session")
def onnx_model(checkpoint) -> Path:
    """The checkpoint fixture exported by vst-export's code to FP32 ONNX, beside it."""
    for exporter in ("onnx", "onnxscript"):
        pytest.importorskip(exporter, reason="pip install 'vst[export]'")
    from vst.core.checkpoint import Checkpoint
    from vst.core.metadata import ArtifactMetadata
    from vst.export.onnx_export import export_onnx

    path = checkpoint.with_suffix(".onnx")
    path.write_bytes(export_onnx(Checkpoint.load(checkpoint).stylizer,
                                 ArtifactMetadata("texture", 48, "deconv", "fp32", 20)))
    return path


@pytest.fixture
def texture():
    return make_texture


@pytest.fixture
def tensorrt_11_4_names(monkeypatch):
    """TensorRT 11.4's names (bindings_11_4) and FakeCudaDriver wherever vst imports them."""
    if not TENSORRT_API.is_file():
        pytest.skip(f"TensorRT 11.4 API list not present at {TENSORRT_API}")
    trt, cuda = tensorrt_11_4(TENSORRT_API), FakeCudaDriver()
    for module in ("vst.export.tensorrt_plan", "vst.core.tensorrt_runner", "vst.benchmarks.runners"):
        monkeypatch.setattr(f"{module}.import_tensorrt", lambda: trt)
        monkeypatch.setattr(f"{module}.import_cuda_driver", lambda: cuda)
    return trt


@pytest.fixture(scope="session")
def backend_levels() -> float:
    """Mean |output - FP32 reference| in 8-bit levels that a CPU backend may leave: BF16, which
    the torch backend runs where the CPU has it, moves random weights' output by about one level."""
    return 1.5 if has_native_bf16() else 1.0
