"""Which backend runs a model: what `--backend` may name for each kind of model, and what
"auto" picks on this machine. Cheap to import (the CLIs build their options from it); the
backends themselves are only looked up, never imported, except ONNX Runtime's providers.

  model                 auto picks                                           --backend may name
  NAME.plan             tensorrt                                             tensorrt
  NAME.onnx             onnxruntime if it has CUDA, else openvino, else      openvino, onnxruntime
                        onnxruntime (CPU)
  NAME.pt, --style      torch on a CUDA GPU, else openvino, else             torch, openvino, onnxruntime
                        onnxruntime (if it and the ONNX exporter are
                        installed), else torch (CPU)
"""
import importlib.util

from vst.core.errors import InputError

BACKENDS = ("auto", "openvino", "onnxruntime", "torch", "tensorrt")
KINDS = {".plan": "plan", ".onnx": "onnx", ".pt": "checkpoint"}   # suffix -> kind of model
RUNS = {"plan": ("tensorrt",), "onnx": ("openvino", "onnxruntime"),
        "checkpoint": ("torch", "openvino", "onnxruntime")}
WHAT_RUNS_IT = {"tensorrt": "a .plan", "openvino": "a .onnx, a .pt or --style",
                "onnxruntime": "a .onnx, a .pt or --style", "torch": "a .pt or --style"}
NEEDS = {  # (kind, backend) -> the modules it imports, and how to install them
    ("onnx", "openvino"): (("openvino",), "pip install openvino"),
    ("checkpoint", "openvino"): (("openvino",), "pip install openvino"),
    ("onnx", "onnxruntime"): (("onnxruntime", "onnx"), "pip install 'vst[export]'"),
    ("checkpoint", "onnxruntime"): (("onnxruntime", "onnx", "onnxscript"), "pip install 'vst[export]'"),
}   # torch is always installed; TensorRT's stack is checked as the plan loads (exit 3)


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
    return next(backend for backend in ("openvino", "onnxruntime", "torch") if usable(kind, backend))


def choose_backend(kind: str, model: str, backend: str) -> str:
    """`backend` ("auto" or one of BACKENDS) for a model of this kind ("plan", "onnx",
    "checkpoint"), named `model` in the message when the two cannot go together or what it
    needs is not installed."""
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
