"""vst.engine: the pipelined decode -> stylize -> encode runner and the backends behind it
(OpenVINO, ONNX Runtime, PyTorch, TensorRT)."""
