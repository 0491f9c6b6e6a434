"""A torch module on uint8 (N, H, W, 3) frames -> an ONNX ModelProto with every N, H, W
dynamic: what export writes (export.onnx_export) and what the engine builds in memory for a
checkpoint on ONNX Runtime."""
import logging
import warnings

import torch

from .frame_io import MAX_SIDE

OPSET = 20                 # torch 2.13's default; TensorRT 10.x and 11.x both parse it
# distinct, non-1 example sizes so that export cannot specialize a dim to a constant
EXAMPLE_SHAPE = (2, 72, 96, 3)


def torch_to_onnx(model: torch.nn.Module, examples: tuple, opset: int, inputs: list[str], output: str):
    """The ONNX ModelProto of `model` on uint8 (N, H, W, 3) inputs, every N, H, W dynamic."""
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
