"""Stylizer -> ONNX with dynamic batch, height and width, checked against PyTorch.

The graph's I/O is export.frame_model.FRAME_IO: uint8 (N, H, W, 3) RGB in [0, 255], in and
out, output size == input size. "fp16" graphs carry FP16 weights and activations with
instance norm in FP32.
"""
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vst.core.convention import MAX_SIDE
from vst.core.cpu import usable_cores
from vst.core.errors import InputError
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer

from .frame_model import INPUT_NAME, OUTPUT_NAME, MixModel, frame_model
from .metadata import ArtifactMetadata, get_onnx_metadata, set_onnx_metadata

OPSET = 20                 # torch 2.13's default; TensorRT 10.x and 11.x both parse it
PARITY_SIZES = ((97, 131), (144, 256), (270, 480))   # (H, W), one odd
PARITY_TOLERANCE = 1       # max abs error in uint8 levels: a rounding tie may flip one level
FP16_MIN_PSNR = 40.0       # dB, FP16 vs FP32 output on a real frame
REFERENCE_FRAME = Path(__file__).with_name("reference_frame.jpg")


# distinct, non-1 example sizes so that export cannot specialize a dim to a constant
EXAMPLE_SHAPE = (2, 72, 96, 3)


def _export(model: torch.nn.Module, examples: tuple, opset: int, inputs: list[str], output: str):
    """The ONNX ModelProto of `model` on uint8 (N, H, W, 3) inputs, every N, H, W dynamic."""
    import logging

    dims = {0: torch.export.Dim("batch", min=1, max=256),
            1: torch.export.Dim("height", min=2, max=MAX_SIDE),
            2: torch.export.Dim("width", min=2, max=MAX_SIDE)}
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # it warns about every torchvision op it cannot find
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, examples, dynamo=True, external_data=False,
                                        opset_version=opset, verbose=False, input_names=inputs,
                                        output_names=[output], dynamic_shapes=[dims] * len(examples))
    finally:
        exporter_log.setLevel(level)
    return _without_trace(program.model_proto)


def _without_trace(proto):
    """The exporter tags every node with its Python stack trace and FX node, which carry the
    build machine's paths (.../site-packages/torch/..., the checkout): artifacts are shipped,
    so those tags go; the graph itself does not use them."""
    for graph_nodes in [proto.graph.node, *(function.node for function in proto.functions)]:
        for node in graph_nodes:
            del node.metadata_props[:]
            node.doc_string = ""
    return proto


def export_onnx(stylizer: Stylizer, metadata: ArtifactMetadata) -> bytes:
    """The serialized ONNX model of the FrameModel in metadata.precision, checker-clean, with
    the metadata record in its metadata_props. Returned, not written, so that callers can
    check it before it appears on disk."""
    import onnx

    model = frame_model(stylizer, metadata.precision, metadata.style_mix)
    proto = _export(model, (torch.zeros(EXAMPLE_SHAPE, dtype=torch.uint8),), metadata.opset,
                    [INPUT_NAME], OUTPUT_NAME)
    onnx.checker.check_model(proto, full_check=True)
    set_onnx_metadata(proto, metadata)
    return proto.SerializeToString()


def read_onnx_metadata(path: Path) -> ArtifactMetadata:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a file that is not ONNX
        raise InputError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    return get_onnx_metadata(model, path)


class OnnxRunner:
    """ONNX Runtime on one exported model (a path or its bytes): uint8 (N, H, W, 3) RGB in,
    same out. A `mix` is appended to the graph (with_mix), so it runs where the model runs."""

    def __init__(self, model: Path | bytes, providers: list[str] | None = None,
                 mix: StyleMix = StyleMix()):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        # its default is every physical core of the machine, not the cores this process may
        # use: one of several workers on a box (engine.cluster) would oversubscribe them
        options.intra_op_num_threads = usable_cores()
        source = model if isinstance(model, bytes) else str(model)
        if not mix.is_plain:
            source = with_mix(source, mix)
        self.session = ort.InferenceSession(source, options,
                                            providers=providers or ["CPUExecutionProvider"])
        self.output = self.session.get_outputs()[0].name

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.session.run([self.output], {INPUT_NAME: frames})[0]


def mix_onnx(mix: StyleMix, opset: int) -> "onnx.ModelProto":
    """MixModel as ONNX: inputs INPUT_NAME (the frames) and OUTPUT_NAME (the stylized frames,
    as the stylizer's graph names its output), output "mixed"."""
    # two distinct examples: the exporter would take one tensor passed twice for one input
    examples = (torch.zeros(EXAMPLE_SHAPE, dtype=torch.uint8), torch.ones(EXAMPLE_SHAPE, dtype=torch.uint8))
    return _export(MixModel(mix), examples, opset, [INPUT_NAME, OUTPUT_NAME], "mixed")


def with_mix(model: str | bytes, mix: StyleMix) -> bytes:
    """An exported model (a path or its bytes) with MixModel(mix) appended: the same input,
    the mixed frames out."""
    import onnx
    from onnx import compose, helper

    base = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(model)
    opset = next(entry.version for entry in base.opset_import if entry.domain in ("", "ai.onnx"))
    tail = mix_onnx(mix, opset)
    tail.ir_version = base.ir_version  # merge_models needs them equal
    # the mix reads the input frames too: hand them on as a second output of the stylizer
    base.graph.node.append(helper.make_node("Identity", [INPUT_NAME], ["frames_out"]))
    base.graph.output.append(helper.make_value_info("frames_out", base.graph.input[0].type))
    merged = compose.merge_models(base, tail, io_map=[(OUTPUT_NAME, OUTPUT_NAME), ("frames_out", INPUT_NAME)],
                                  outputs=["mix/mixed"], prefix2="mix/")
    return merged.SerializeToString()


def reference_frame(size: tuple[int, int] | None = None) -> np.ndarray:
    """A real frame (Big Buck Bunny, 270 x 480) as uint8 (1, H, W, 3) RGB, optionally
    resized to (H, W). Decoded with PyAV so that export needs no OpenCV."""
    import av

    with av.open(str(REFERENCE_FRAME)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    if size is not None:
        x = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        frame = x.round().clamp(0, 255).byte()[0].permute(1, 2, 0).numpy()
    return np.ascontiguousarray(frame[None])


def parity_error(stylizer: Stylizer, runner: OnnxRunner, sizes=PARITY_SIZES,
                 mix: StyleMix = StyleMix()) -> int:
    """Max abs difference (uint8 levels) between PyTorch FP32 and the ONNX model (both with
    `mix`) over real frames at `sizes`; raises if an output's size differs from its input's."""
    reference = frame_model(stylizer, "fp32", mix)
    worst = 0
    for size in sizes:
        frames = reference_frame(size)
        with torch.no_grad():
            expected = reference(torch.from_numpy(frames)).numpy()
        got = runner(frames)
        if got.shape != frames.shape:
            raise RuntimeError(f"ONNX output {got.shape} for input {frames.shape}")
        worst = max(worst, int(np.abs(got.astype(np.int16) - expected).max()))
    return worst


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (inf when identical)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
