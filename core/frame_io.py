"""The frame I/O contract of every model vst runs (exported graphs, plans, runners): uint8
(N, H, W, 3) RGB in [0, 255], NHWC, in and out, the output the input's size. It is what
decoders hand out and encoders take, so the host moves 1 byte per channel and does no
per-pixel work. No torch here: the runners that read it need none."""

INPUT_NAME, OUTPUT_NAME = "frames", "stylized"
MAX_SIDE = 8192  # pixels: the largest frame side vst takes (and the exported graphs accept)
FRAME_IO = {"layout": "NHWC", "channels": "RGB", "dtype": "uint8", "range": [0, 255],
            "input": INPUT_NAME, "output": OUTPUT_NAME}
