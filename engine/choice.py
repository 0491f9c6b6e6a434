"""Which backend runs a model: what `--backend` may name for each kind of model, and what
"auto" picks on this machine. Cheap to import (the CLIs build their options from it); the
backends themselves are only looked up, never imported, except ONNX Runtime's providers and
torch's CUDA check where torch is installed.

  model                 auto picks                                           --backend may name
  NAME.plan             tensorrt                                             tensorrt
  NAME.onnx             onnxruntime if it has CUDA, else openvino, else      openvino, onnxruntime
                        onnxruntime (CPU)
  NAME.pt               torch on a CUDA GPU, else openvino, else             torch, openvino, onnxruntime
                        onnxruntime, else torch (CPU)
  --style NAME          as NAME.pt, but ONNX Runtime with CUDA before      torch, openvino, onnxruntime
                        OpenVINO where torch has no GPU; torch runs the
                        shipped NAME.pt, the others NAME.onnx (no torch)
"""
import importlib.util

from vst.core.errors import InputError

BACKENDS = ("auto", "openvino", "onnxruntime", "torch", "tensorrt")
KINDS = {".plan": "plan", ".onnx": "onnx", ".pt": "checkpoint"}   # suffix -> kind of model file
RUNS = {"plan": ("tensorrt",), "onnx": ("openvino", "onnxruntime"),
        "checkpoint": ("torch", "openvino", "onnxruntime"), "style": ("torch", "openvino", "onnxruntime")}
WHAT_RUNS_IT = {"tensorrt": "a .plan", "openvino": "a .onnx, a .pt or --style",
                "onnxruntime": "a .onnx, a .pt or --style", "torch": "a .pt or --style"}
TORCH = "pip install torch==2.13.0 'vst[torch]'"
NEEDS = {  # (kind, backend) -> the modules it imports, and how to install them
    ("onnx", "openvino"): (("openvino",), "pip install openvino"),
    ("onnx", "onnxruntime"): (("onnxruntime", "onnx"), "pip install 'vst[onnxruntime]'"),
    ("checkpoint", "torch"): (("torch",), TORCH),
    ("checkpoint", "openvino"): (("openvino", "torch"), TORCH),
    ("checkpoint", "onnxruntime"): (("onnxruntime", "onnx", "onnxscript", "torch"), "pip install torch==2.13.0 'vst[export]'"),
    ("style", "torch"): (("torch",), TORCH),
    ("style", "openvino"): (("openvino",), "pip install openvino"),
    ("style", "onnxruntime"): (("onnxruntime", "onnx"), "pip install 'vst[onnxruntime]'"),
}   # TensorRT's stack is checked as the plan loads (exit 3)


def installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in modules)


def usable(kind: str, backend: str) -> bool:
    """Whether what `backend` needs to run a model of this kind is installed."""
    return installed(*NEEDS.get((kind, backend), ((), ""))[0])


def onnxruntime_has_cuda() -> bool:
    if not installed("onnxruntime"):
        return False
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def cuda_available() -> bool:
    """A CUDA GPU that torch can use (False where torch is not installed)."""
    if not installed("torch"):
        return False
    import torch

    return torch.cuda.is_available()


def auto_backend(kind: str) -> str:
    """The fastest backend installed here for this kind of model (see the module docstring)."""
    if kind == "plan":
        return "tensorrt"
    if kind == "onnx":
        return "openvino" if usable(kind, "openvino") and not onnxruntime_has_cuda() else "onnxruntime"
    if cuda_available():
        return "torch"
    if kind == "style" and onnxruntime_has_cuda() and usable(kind, "onnxruntime"):
        return "onnxruntime"
    return next((backend for backend in ("openvino", "onnxruntime", "torch") if usable(kind, backend)), "openvino")


def choose_backend(kind: str, model: str, backend: str) -> str:
    """`backend` ("auto" or one of BACKENDS) for a model of this kind ("plan", "onnx",
    "checkpoint", "style"), named `model` in the message when the two cannot go together or
    what it needs is not installed."""
    if backend == "auto":
        backend = auto_backend(kind)
    elif backend not in RUNS[kind]:
        raise InputError(f"{model}: --backend {backend} runs {WHAT_RUNS_IT[backend]}; this model runs "
                         f"on --backend {' or '.join(('auto',) + RUNS[kind])}")
    modules, install = NEEDS.get((kind, backend), ((), ""))
    absent = [module for module in modules if not installed(module)]
    if absent:
        raise InputError(f"{model}: the {backend} backend needs {', '.join(absent)}, not installed "
                         f"here ({install})")
    return backend
