"""Sample media installed with vst (credits in the README): a short clip with audio and a
style image, so that the commands have real input on a fresh install."""
from pathlib import Path

SAMPLE_CLIP = Path(__file__).with_name("bigbuckbunny.mp4")   # 480x270, 25 fps, 132 frames, AAC
