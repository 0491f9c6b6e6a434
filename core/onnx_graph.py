"""A stylizer's FrameModel -> an ONNX ModelProto on uint8 (N, H, W, 3) RGB frames with every
N, H, W dynamic: what export writes (export.onnx_export) and what the engine builds in memory
for a checkpoint on ONNX Runtime."""
import logging
import warnings

import torch

from .frame_io import INPUT_NAME, MAX_SIDE, OUTPUT_NAME
from .frame_model import frame_model
from .style_mix import StyleMix
from .stylizer import Stylizer

OPSET = 20                 # torch 2.13's default; TensorRT 10.x and 11.x both parse it
# distinct, non-1 example sizes so that export cannot specialize a dim to a constant
EXAMPLE_SHAPE = (2, 72, 96, 3)


def stylizer_to_onnx(stylizer: Stylizer, precision: str, mix: StyleMix, opset: int):
    """The FrameModel (core.frame_model) of a Stylizer in "fp32" or "fp16", with the style
    mix, as an ONNX ModelProto: INPUT_NAME in, OUTPUT_NAME out, batch, height and width dynamic."""
    model = frame_model(stylizer, precision, mix)
    dims = {0: torch.export.Dim("batch", min=1, max=256),
            1: torch.export.Dim("height", min=2, max=MAX_SIDE),
            2: torch.export.Dim("width", min=2, max=MAX_SIDE)}
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # it warns about every torchvision op it cannot find
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, (torch.zeros(EXAMPLE_SHAPE, dtype=torch.uint8),), dynamo=True,
                                        external_data=False, opset_version=opset, verbose=False,
                                        input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                        dynamic_shapes=[dims])
    finally:
        exporter_log.setLevel(level)
    return without_trace(program.model_proto)


def without_trace(proto):
    """The exporter tags every node with its Python stack trace and FX node, which carry the
    build machine's paths (.../site-packages/torch/..., the checkout): artifacts are shipped,
    so those tags go; the graph itself does not use them."""
    for graph_nodes in [proto.graph.node, *(function.node for function in proto.functions)]:
        for node in graph_nodes:
            del node.metadata_props[:]
            node.doc_string = ""
    return proto
