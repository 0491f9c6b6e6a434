"""The console scripts of the commands that need an extra. Each imports its command only when
it runs, so that a command whose extra is not installed (torch, OpenCV, ONNX...: `pip
install -e .` alone brings only what vst-run needs) says so in one line and exits 2, instead
of a traceback."""
import sys
from contextlib import contextmanager

import click

WITH_TORCH = {"train", "export", "bench"}  # extras that bring torch: its CPU wheel pinned


@contextmanager
def needs(command: str, extra: str):
    try:
        yield
    except ModuleNotFoundError as exc:
        pin = "torch==2.13.0 " if extra in WITH_TORCH else ""  # else pip takes a CUDA build
        click.echo(f"{command}: error: {exc.name} is not installed; {command} needs the extra "
                   f"'{extra}': pip install {pin}'vst[{extra}]'", err=True)
        sys.exit(2)


def vst_train() -> None:
    with needs("vst-train", "train"):
        from vst.train.cli import main
        main()


def vst_export() -> None:
    with needs("vst-export", "export"):
        from vst.export.cli import main
        main()


def vst_bench() -> None:
    with needs("vst-bench", "bench"):
        from vst.benchmarks.cli import main
        main()


def vst_eval() -> None:
    with needs("vst-eval", "train"):
        from vst.benchmarks.eval_cli import main
        main()


def vst_app() -> None:
    with needs("vst-app", "app"):
        from vst.app.cli import main
        main()
