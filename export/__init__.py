"""vst.export: a stylizer -> ONNX (FP32, FP16) -> TensorRT plan, each artifact carrying one
metadata record (core.metadata). Every artifact is checked before it is written, by running
it against PyTorch FP32 on core's graph runners (OnnxRunner, TrtRunner), the ones the engine
runs them on: export and engine both stand on core and neither imports the other."""
