"""ONNX Runtime on one exported model: uint8 (N, H, W, 3) RGB frames in, the same out
(core.frame_io.FRAME_IO). A style mix the graph lacks is appended to it (with_mix), so it
runs where the model runs."""
from pathlib import Path

import numpy as np

from vst.core.cpu import usable_cores
from vst.core.frame_io import INPUT_NAME, OUTPUT_NAME
from vst.core.style_mix import StyleMix


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
    """MixModel as an onnx.ModelProto: inputs INPUT_NAME (the frames) and OUTPUT_NAME (the
    stylized frames, as the stylizer's graph names its output), output "mixed"."""
    import torch

    from vst.core.frame_model import MixModel
    from vst.core.onnx_graph import EXAMPLE_SHAPE, torch_to_onnx

    # two distinct examples: the exporter would take one tensor passed twice for one input
    examples = (torch.zeros(EXAMPLE_SHAPE, dtype=torch.uint8), torch.ones(EXAMPLE_SHAPE, dtype=torch.uint8))
    return torch_to_onnx(MixModel(mix), examples, opset, [INPUT_NAME, OUTPUT_NAME], "mixed")


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
