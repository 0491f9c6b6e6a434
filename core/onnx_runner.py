"""ONNX Runtime on one exported model: uint8 (N, H, W, 3) RGB frames in, the same out
(core.frame_io.FRAME_IO). A style mix the graph lacks is appended to it (with_mix), so it
runs where the model runs."""
from pathlib import Path

import numpy as np

from .cpu import usable_cores
from .frame_io import INPUT_NAME, OUTPUT_NAME
from .style_mix import BT601_LUMA, StyleMix


class OnnxRunner:
    """One InferenceSession on a model (a path or its bytes), CPU unless `providers` say."""

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


def mix_onnx(mix: StyleMix, opset: int):
    """The style mix (core.style_mix) as an onnx.ModelProto built node by node (no torch),
    computed in FP32 on the 0-255 scale: inputs INPUT_NAME (the frames) and OUTPUT_NAME (the
    stylized frames, as the stylizer's graph names its output), uint8 (N, H, W, 3); output
    "mixed", the same."""
    from onnx import TensorProto, helper

    frames = ["N", "H", "W", 3]
    constants = [helper.make_tensor("strength", TensorProto.FLOAT, [], [mix.strength]),
                 helper.make_tensor("luma_weights", TensorProto.FLOAT, [3], list(BT601_LUMA)),
                 helper.make_tensor("channel_axis", TensorProto.INT64, [1], [3]),
                 helper.make_tensor("lowest", TensorProto.FLOAT, [], [0.0]),
                 helper.make_tensor("highest", TensorProto.FLOAT, [], [255.0])]
    nodes = [helper.make_node("Cast", [INPUT_NAME], ["x"], to=TensorProto.FLOAT),
             helper.make_node("Cast", [OUTPUT_NAME], ["y"], to=TensorProto.FLOAT)]
    target = "y"
    if mix.preserve_color:
        for name in ("x", "y"):
            nodes += [helper.make_node("Mul", [name, "luma_weights"], [f"{name}_weighted"]),
                      helper.make_node("ReduceSum", [f"{name}_weighted", "channel_axis"], [f"{name}_luma"], keepdims=1)]
        nodes += [helper.make_node("Sub", ["y_luma", "x_luma"], ["luma_step"]),
                  helper.make_node("Add", ["x", "luma_step"], ["target"])]
        target = "target"
    nodes += [helper.make_node("Sub", [target, "x"], ["toward"]),
              helper.make_node("Mul", ["toward", "strength"], ["step"]),
              helper.make_node("Add", ["x", "step"], ["blend"]),
              helper.make_node("Round", ["blend"], ["rounded"]),
              helper.make_node("Clip", ["rounded", "lowest", "highest"], ["clipped"]),
              helper.make_node("Cast", ["clipped"], ["mixed"], to=TensorProto.UINT8)]
    graph = helper.make_graph(nodes, "vst-style-mix",
                              [helper.make_tensor_value_info(name, TensorProto.UINT8, frames)
                               for name in (INPUT_NAME, OUTPUT_NAME)],
                              [helper.make_tensor_value_info("mixed", TensorProto.UINT8, frames)], constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def with_mix(model: str | bytes, mix: StyleMix) -> bytes:
    """An exported model (a path or its bytes) with the mix appended (mix_onnx): the same
    input, the mixed frames out."""
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
