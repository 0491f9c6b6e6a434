"""vst.export: stylizer -> ONNX -> FP16 TensorRT plan (issue 3; not built yet)."""
