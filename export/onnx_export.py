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

from vst.core.errors import InputError
from vst.core.stylizer import Stylizer

from .frame_model import INPUT_NAME, OUTPUT_NAME, frame_model
from .metadata import ArtifactMetadata, get_onnx_metadata, set_onnx_metadata

OPSET = 20                 # torch 2.13's default; TensorRT 10.x and 11.x both parse it
PARITY_SIZES = ((97, 131), (144, 256), (270, 480))   # (H, W), one odd
PARITY_TOLERANCE = 1       # max abs error in uint8 levels: a rounding tie may flip one level
FP16_MIN_PSNR = 40.0       # dB, FP16 vs FP32 output on a real frame
REFERENCE_FRAME = Path(__file__).with_name("reference_frame.jpg")


def export_onnx(stylizer: Stylizer, metadata: ArtifactMetadata) -> bytes:
    """The serialized ONNX model of the FrameModel in metadata.precision, checker-clean, with
    the metadata record in its metadata_props. Returned, not written, so that callers can
    check it before it appears on disk."""
    import logging

    import onnx

    model = frame_model(stylizer, metadata.precision)
    dims = {0: torch.export.Dim("batch", min=1, max=256),
            1: torch.export.Dim("height", min=2, max=8192),
            2: torch.export.Dim("width", min=2, max=8192)}
    # distinct, non-1 example sizes so that export cannot specialize a dim to a constant
    example = torch.zeros((2, 72, 96, 3), dtype=torch.uint8)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # it warns about every torchvision op it cannot find
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, (example,), dynamo=True, external_data=False,
                                        opset_version=metadata.opset, verbose=False,
                                        input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                        dynamic_shapes={"frames": dims})
    finally:
        exporter_log.setLevel(level)
    proto = program.model_proto
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
    same out."""

    def __init__(self, model: Path | bytes, providers: list[str] | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        source = model if isinstance(model, bytes) else str(model)
        self.session = ort.InferenceSession(source, options,
                                            providers=providers or ["CPUExecutionProvider"])

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: frames})[0]


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


def parity_error(stylizer: Stylizer, runner: OnnxRunner, sizes=PARITY_SIZES) -> int:
    """Max abs difference (uint8 levels) between PyTorch FP32 and the ONNX model over
    real frames at `sizes`; raises if an output's size differs from its input's."""
    reference = frame_model(stylizer, "fp32")
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
