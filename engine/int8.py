"""INT8 graphs for OpenVINO's CPU plugin: a stylizer's ONNX graph quantized after training by
NNCF, once per model, kept as OpenVINO IR.

NNCF's MIXED preset (symmetric weights, asymmetric activations: the stylizer's activations
after instance norm and ReLU are one-sided) on CALIBRATION_FRAMES frames of the sample clip,
none within a second of the frame the precision gate checks. The ops of FLOAT_INPUTS keep
float inputs, which in vst's networks leaves the convolutions as the only INT8 layers, all
but the last up block (`quantize`); the layers in float run in BF16 where the CPU has it.

An INT8 graph records the hash of the ONNX file it came from and of this recipe (`onnx_key`),
and is found:
  beside the ONNX, NAME.int8.xml + .bin: every shipped style has one (release.ship writes
                it), so INT8 needs no NNCF for them;
  in the cache, openvino_cache()/int8/KEY.xml: any other ONNX model, quantized on first use
                where NNCF is installed (about 2 s for Res48).
A graph whose recorded hash is not its ONNX's is stale, and one OpenVINO cannot read is broken:
neither is used. Where none can be made, the runner runs BF16 or FP32 under --precision auto
(engine.runner).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vst.core.errors import InputError
from vst.core.files import write_atomically

if TYPE_CHECKING:
    import openvino as ov

SOURCE_KEY = "vst_int8_source"  # rt_info: the onnx_key of the ONNX a graph was quantized from
CALIBRATION_FRAMES = 16
CALIBRATION_SIZE = (270, 480)  # (H, W): the graph is quantized once for every frame size
# Ops whose inputs stay in float. Instance norm divides each channel by its own spread, so a
# channel narrow beside the tensor's 8-bit range would come out of it with its rounding error
# magnified; a residual sum would add the rounding of both its inputs (Add also covers the
# biases and instance norm's shift, which NNCF does not quantize anyway). With NNCF's default
# quantizers there, candy's INT8 output was 34.5-40.7 dB from FP32 on frames of three real
# clips; with these in float, 41.7-48.3 dB (docs/results.md).
FLOAT_INPUTS = ("MVN", "Add")
RECIPE = (f"nncf MIXED, {CALIBRATION_FRAMES} frames of the sample clip at {CALIBRATION_SIZE}, "
          f"float inputs of {'+'.join(FLOAT_INPUTS)}, the last transposed convolution in float")  # in the key


def nncf_missing() -> str | None:
    try:
        import nncf  # noqa: F401
    except ImportError:
        return "INT8 for this model needs NNCF to quantize it: pip install 'vst[int8]'"
    return None


def calibration_frames() -> list[np.ndarray]:
    """uint8 (1, H, W, 3) RGB frames spread over the sample clip at CALIBRATION_SIZE, leaving
    out the second around the clip's frame nearest the precision gate's (core.quality's
    reference frame), so that the gate checks a frame the quantizer never saw."""
    import av

    from vst.core.quality import reference_frame
    from vst.samples import SAMPLE_CLIP

    with av.open(str(SAMPLE_CLIP)) as container:
        stream = container.streams.video[0]
        second = max(1, round(float(stream.average_rate or 25)))
        frames = [frame.to_ndarray(format="rgb24", width=CALIBRATION_SIZE[1], height=CALIBRATION_SIZE[0])
                  for frame in container.decode(stream)]
    gate = reference_frame(CALIBRATION_SIZE)[0].astype(np.float32)
    nearest = int(np.argmin([np.mean((frame - gate) ** 2) for frame in frames]))
    kept = [frame for i, frame in enumerate(frames) if abs(i - nearest) > second]
    step = max(1, len(kept) // CALIBRATION_FRAMES)
    return [frame[None] for frame in kept[::step][:CALIBRATION_FRAMES]]


def onnx_key(onnx: bytes) -> str:
    """The name of an ONNX model's INT8 form: a hash of its bytes and of RECIPE (graphs read
    from one file differ in their generated node names, so the file, not the graph, names it)."""
    return hashlib.sha256(RECIPE.encode() + onnx).hexdigest()[:32]


def quantize(graph: ov.Model) -> ov.Model:
    """`graph` (uint8 NHWC frames in and out, any size) with its convolutions in INT8."""
    import nncf

    # The last transposed convolution (a folded resize up block) stays in float: OpenVINO's INT8
    # kernel for it writes FP32 (4 bytes a value) and then a BF16 copy; in BF16 it writes BF16
    # once. Where it writes the full-resolution frame (the resize decoder), peak memory at 4K
    # 965 -> 586 MB at the same speed within 4 %; before the sub-pixel tail (every shipped
    # style), INT8 there gained nothing measurable and lost 0.5 dB (docs/results.md).
    upsampling = [op.get_friendly_name() for op in graph.get_ordered_ops()
                  if op.get_type_name() == "ConvolutionBackpropData"]
    logging.getLogger("nncf").setLevel(logging.ERROR)  # it logs every node it leaves in float
    with contextlib.redirect_stdout(io.StringIO()):  # and draws progress bars on stdout
        return nncf.quantize(graph.clone(), nncf.Dataset(calibration_frames()), preset=nncf.QuantizationPreset.MIXED,
                             subset_size=CALIBRATION_FRAMES, fast_bias_correction=True,
                             # validate=False: a graph without one of these types is not an error
                             ignored_scope=nncf.IgnoredScope(names=upsampling[-1:], types=list(FLOAT_INPUTS),
                                                             validate=False))


def beside(onnx: Path) -> Path:
    """Where an ONNX model's INT8 IR ships: NAME.onnx -> NAME.int8.xml (and NAME.int8.bin)."""
    return onnx.with_suffix(".int8.xml")


def read_int8(xml: Path, key: str) -> ov.Model | None:
    """The INT8 graph saved at `xml` if it was quantized from the ONNX named `key`, else None
    (also for a file OpenVINO cannot read)."""
    from .openvino_runner import read_with_frontend

    if not (xml.is_file() and xml.with_suffix(".bin").is_file()):
        return None
    try:
        graph = read_with_frontend("ir", xml)
    except Exception:  # noqa: BLE001 - see read_with_frontend
        return None
    return graph if graph.has_rt_info(SOURCE_KEY) and graph.get_rt_info(SOURCE_KEY).astype(str) == key else None


def save_int8(graph: ov.Model, key: str, xml: Path) -> None:
    """`graph`, quantized from the ONNX named `key`, as IR at `xml`: the .bin, then the .xml
    (a model is found by it), each renamed into place once whole."""
    import openvino as ov

    graph.set_rt_info(key, SOURCE_KEY)
    with tempfile.TemporaryDirectory(prefix="vst-int8-") as folder:
        ov.save_model(graph, Path(folder) / xml.name)
        for suffix in (".bin", ".xml"):
            data = (Path(folder) / xml.name).with_suffix(suffix).read_bytes()
            write_atomically(xml.with_suffix(suffix), lambda file: file.write(data))


def int8_graph(graph: ov.Model, key: str, cache: Path, shipped: Path | None = None) -> ov.Model:
    """The INT8 form of `graph`, the ONNX model named `key` (onnx_key): the IR at `shipped`
    or in `cache` made from it, else quantized now and saved in `cache`. InputError when it
    must be quantized and NNCF is not installed."""
    saved = cache / f"{key}.xml"
    for xml in filter(None, (shipped, saved)):
        found = read_int8(xml, key)
        if found is not None:
            return found
    missing = nncf_missing()
    if missing:
        raise InputError(missing)
    quantized = quantize(graph)
    cache.mkdir(parents=True, exist_ok=True)
    save_int8(quantized, key, saved)
    return quantized


def write_beside(onnx: Path) -> Path:
    """Quantize the ONNX model at `onnx` and save its INT8 IR beside it (release.ship does for
    every shipped style); the .xml's path."""
    from .openvino_runner import read_vst_onnx

    xml = beside(onnx)
    save_int8(quantize(read_vst_onnx(onnx)[0]), onnx_key(onnx.read_bytes()), xml)
    return xml
