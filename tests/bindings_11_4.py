"""Stand-ins for TensorRT 11.4 and pycuda that only know the real API's names.

`tensorrt_11_4(api_file)` builds a module-like object from ../shared/docs/tensorrt-11.4-api.txt
(members and pybind signatures read from the real 11.4 bindings): touching a class member or
enum member that 11.4 does not have raises AttributeError, calling a method returns an
object of the class its signature names. It computes nothing — no engine is built or run —
so tests use it to check that vst's TensorRT calls exist in 11.4, never for results.
"""
import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np

VERSION = "11.4.0.106"
# enum members the code may touch, as tensorrt-pycuda.md lists them for 11.4
ENUMS = {
    "NetworkDefinitionCreationFlag": {"STRONGLY_TYPED": 0, "PREFER_JIT_PYTHON_PLUGINS": 1,
                                      "PREFER_AOT_PYTHON_PLUGINS": 2},
    "BuilderFlag": {name: i for i, name in enumerate(
        "DEBUG GPU_FALLBACK REFIT DISABLE_TIMING_CACHE TF32 SPARSE_WEIGHTS VERSION_COMPATIBLE "
        "EXCLUDE_LEAN_RUNTIME STRIP_PLAN".split())},
    "MemoryPoolType": {"WORKSPACE": 0, "DLA_MANAGED_SRAM": 1, "DLA_LOCAL_DRAM": 2,
                       "DLA_GLOBAL_DRAM": 3, "TACTIC_DRAM": 4, "TACTIC_SHARED_MEMORY": 5},
    "Logger": {"INTERNAL_ERROR": 0, "ERROR": 1, "WARNING": 2, "INFO": 3, "VERBOSE": 4},
}
# methods whose pybind signature is (*args, **kwargs): what the real overloads return
OVERLOADS = {("Builder", "build_serialized_network"): "IHostMemory",
             ("Runtime", "deserialize_cuda_engine"): "ICudaEngine",
             ("ICudaEngine", "create_execution_context"): "IExecutionContext",
             ("IExecutionContext", "set_input_shape"): "bool"}


def tensorrt_installed() -> bool:
    return importlib.util.find_spec("tensorrt") is not None


def read_api(api_file: Path) -> dict[str, dict[str, str]]:
    """{class: {member: signature or "(property)"}}"""
    api, current = {}, None
    for line in api_file.read_text().splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = api.setdefault(line[1:-1], {})
        elif current is not None and line.strip() and not line.startswith("#"):
            name, _, signature = line.partition("  ")
            current[name] = signature.strip()
    return api


class Member:
    def __init__(self, api, cls, calls):
        self._api, self._cls, self._calls, self._values = api, cls, calls, {}

    def _check(self, name):
        if name not in self._api.get(self._cls, {}):
            raise AttributeError(f"tensorrt 11.4: {self._cls} has no member {name!r}")
        return self._api[self._cls][name]

    def __getattr__(self, name):
        signature = self._check(name)
        if signature == "(property)":
            return self._values.get(name, 0)
        returns = OVERLOADS.get((self._cls, name)) or re.sub(r"^trt\.", "", signature.rpartition("-> ")[2])

        def method(*args, **kwargs):
            self._calls.append((self._cls, name, args))
            if self._cls == "IExecutionContext" and name == "set_input_shape":
                self._values["shape"] = tuple(args[1])
            if self._cls == "IExecutionContext" and name == "get_tensor_shape":
                return self._values["shape"]
            if returns in ("bool",):
                return True
            if returns in ("int", "None"):
                return 0 if returns == "int" else None
            if returns == "IHostMemory":
                return b"not an engine: API-name check only"
            return Member(self._api, returns, self._calls)
        return method

    def __setattr__(self, name, value):
        if name.startswith("_"):
            return super().__setattr__(name, value)
        if self._check(name) != "(property)":
            raise AttributeError(f"tensorrt 11.4: {self._cls}.{name} is not a property")
        self._values[name] = value


def tensorrt_11_4(api_file: Path):
    api, calls = read_api(api_file), []

    def cls(name):
        def construct(*args):
            if "__init__" not in api.get(name, {}):
                raise TypeError(f"tensorrt 11.4: {name} cannot be constructed")
            calls.append((name, "__init__", args))
            return Member(api, name, calls)
        for member, value in ENUMS.get(name, {}).items():
            setattr(construct, member, value)
        return construct

    module = SimpleNamespace(__version__=VERSION, calls=calls,
                             **{name: cls(name) for name in api})
    for name, members in ENUMS.items():
        if not hasattr(module, name):
            setattr(module, name, SimpleNamespace(**members))
    return module


class FakeCudaDriver:
    """pycuda.driver's calls used by vst, on host memory; nothing runs on a device."""
    class Error(Exception):
        pass

    class Device:
        def __init__(self, index):
            pass

        @staticmethod
        def count():
            return 1

        def name(self):
            return "NVIDIA H100 80GB HBM3"

        def compute_capability(self):
            return (9, 0)

        def retain_primary_context(self):
            return SimpleNamespace(push=lambda: None, pop=lambda: None, detach=lambda: None)

    class Stream:
        handle = 1

        def synchronize(self):
            pass

    class Event:
        def record(self, stream):
            pass

        def synchronize(self):
            pass

        def time_till(self, end):
            return 0.0  # milliseconds; nothing ran

    def init(self):
        pass

    def pagelocked_empty(self, shape, dtype):
        return np.empty(shape, dtype)

    def mem_alloc(self, nbytes):
        return 0x10000

    def memcpy_htod_async(self, device, host, stream):
        pass

    def memcpy_dtoh_async(self, host, device, stream):
        pass
