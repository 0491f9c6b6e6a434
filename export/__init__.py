"""vst.export: a stylizer -> ONNX (FP32, FP16) -> TensorRT plan, each artifact carrying one
metadata record (core.metadata). Every artifact is checked before it is written, by running
it on the engine's runners against PyTorch FP32: export sits on top of engine/, which runs
artifacts and imports nothing from here."""
