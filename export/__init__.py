"""vst.export: a stylizer -> ONNX (FP32, FP16) -> TensorRT plan, each artifact carrying one
metadata record, with the runners that check each artifact against PyTorch."""
