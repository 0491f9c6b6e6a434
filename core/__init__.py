"""vst.core: what every stage shares — the stylizing network (Table 1), its checkpoint
format, the frame/tensor convention and the uint8 frame I/O contract of every artifact, the
FrameModel that exports and runs it, the style mix, the artifact metadata record, ONNX graph
building, PSNR and the reference frame, the lazy TensorRT/pycuda stack, the runners of an
exported graph on ONNX Runtime and of a plan on TensorRT, image I/O, file types,
errors and exit codes, atomic writes, CLI helpers and the host CPU's facts. It imports no
other part of vst."""
