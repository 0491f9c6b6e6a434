"""Inference needs no torch: a shipped style runs its ONNX on OpenVINO (or ONNX Runtime) in a
process where `import torch` fails, as after `pip install -e .` alone; what does need torch
says so in one line."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vst.samples import SAMPLE_CLIP

pytest.importorskip("openvino", reason="the default CPU backend")

# as if torch (and what only it brings) were not installed: imports fail, lookups find nothing
NO_TORCH = textwrap.dedent("""
    import importlib.abc, importlib.util, sys

    ABSENT = ("torch", "torchvision", "onnxscript")

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ABSENT:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoTorch())
    real_find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: None if name.split(".")[0] in ABSENT else real_find_spec(name, *a)
""")


def without_torch(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_TORCH + textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=300)


def test_vst_run_stylizes_with_a_shipped_style_without_torch(tmp_path):
    out = tmp_path / "out.mp4"
    done = without_torch("""
        from vst.engine.cli import main
        main()
        """, str(SAMPLE_CLIP), "--style", "candy", "--max-frames", "6", "--strength", "0.5",
        "--preserve-color", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "OpenVINO (CPU" in done.stdout and out.is_file()


def test_the_api_loads_a_style_without_torch_and_never_imports_it():
    done = without_torch("""
        import sys
        import numpy as np
        import vst
        with vst.load("mosaic", strength=0.75) as mosaic:
            out = mosaic(np.full((40, 56, 3), 128, np.uint8))
        assert out.shape == (40, 56, 3) and out.dtype == np.uint8
        print(mosaic.name, sorted(m for m in sys.modules if m.split(".")[0] == "torch"))
        """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("[]")


def test_a_checkpoint_without_torch_is_one_line_that_says_how_to_install_it(tmp_path):
    checkpoint = Path(__file__).resolve().parents[1] / "styles" / "candy.pt"
    done = without_torch("""
        from vst.engine.cli import main
        main()
        """, str(SAMPLE_CLIP), "--engine", str(checkpoint), "-o", str(tmp_path / "o.mp4"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "needs torch" in done.stderr and "vst[torch]" in done.stderr


@pytest.mark.parametrize("script,extra", [("vst_train", "train"), ("vst_export", "export"), ("vst_bench", "bench"),
                                          ("vst_eval", "train")])
def test_commands_that_need_torch_say_so_in_one_line(script, extra):
    done = without_torch(f"""
        import sys
        sys.argv = ["{script}", "--help"]
        from vst.commands import {script}
        {script}()
        """)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "torch is not installed" in done.stderr and f"vst[{extra}]" in done.stderr
