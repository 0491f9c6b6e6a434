"""Tasks (engine.inputs) through one opened runner: videos by engine.job, still images by
engine.still; one line per result."""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from vst.core.command import require_writable_folder
from vst.core.errors import CommandError, InputError
from vst.core.frame_io import check_scaled_size
from vst.core.images import scale_to_height, width_at

from .runner import Runner
from .inputs import Task
from .job import JobResult, VideoJob, VideoSettings, stylize_video
from .still import stylize_image


@dataclass
class Outcome:
    task: Task
    line: str | None                       # what was written; None: nothing was
    error: CommandError | None = None      # what went wrong (a warning where `line` is set)
    notes: tuple[str, ...] = ()            # input streams left out of the output, and why


def describe_video(result: JobResult, runner: Runner) -> str:
    info, times = result.info, result.times
    deinterlaced = ", deinterlaced (bwdif)" if result.deinterlaced else ""
    return (f"{result.out}: {times.frames} frames {result.width}x{info.height} at {float(info.fps):g} fps"
            f"{deinterlaced}{result.side_streams}; {times.wall:.1f} s = {times.frames / times.wall:.1f} fps; "
            f"decode {times.throughput('decode'):.0f} fps, stylize {times.throughput('stylize'):.1f} fps "
            f"({runner.name}), encode {times.throughput('encode'):.0f} fps ({result.encoder})")


def run_video(task: Task, runner: Runner, settings: VideoSettings, progress: bool,
              on_frame: Callable[[], None] | None = None) -> Outcome:
    result = stylize_video(VideoJob(task.source, task.out, settings), runner, progress, on_frame)
    outcome = Outcome(task, describe_video(result, runner), notes=tuple(f"{task.source}: {note}" for note in result.left_out))
    frames = result.times.frames
    if result.decode_error:
        outcome.error = InputError(f"{task.source}: decoding stopped after {frames} frames "
                                   f"({result.decode_error}); {result.out} has the frames that decoded")
    else:
        outcome.error = flawed_input(task.source, result.out, frames, result.damaged, result.short)
    return outcome


def flawed_input(source: str, out: Path, frames: int, damaged: tuple[str, ...],
                 short: tuple[float, float] | None) -> InputError | None:
    """What is wrong with an input whose output was written all the same: packets that did
    not decode (JobResult.damaged), else frames that end before its header says (short)."""
    if damaged:
        count = len(damaged)
        return InputError(f"{source}: damaged: {count} video packet{'s' * (count > 1)} did not decode "
                          f"({damaged[0]}); {out} has the {frames} frames that did")
    if short:
        covered, announced = short
        return InputError(f"{source}: truncated: its {frames} frames that decoded cover {covered:.2f} s "
                          f"of the {announced:.2f} s its header announces; {out} has those")
    return None


def run_image(task: Task, runner: Runner, settings: VideoSettings) -> Outcome:
    require_writable_folder(task.out)

    def resize(pixels: np.ndarray) -> np.ndarray:
        check_scaled_size(task.source, "the image", width_at(pixels, settings.height), settings.height)
        return scale_to_height(pixels, settings.height)
    width, height = stylize_image(Path(task.source), task.out, runner, None if settings.height is None else resize,
                                  settings.side_by_side)
    return Outcome(task, f"{task.out}: {width}x{height} ({runner.name})")


def run_tasks(tasks: list[Task], runner: Runner, settings: VideoSettings, tell: Callable[[str], None],
              progress: bool = True) -> list[Outcome]:
    """Each task in turn; what it wrote passed to tell() as it ends. A lone task's failure is
    raised; in a batch it is recorded and the others go on (folders are made as needed)."""
    outcomes = []
    for task in tasks:
        made = []
        try:
            if task.refused:
                raise InputError(task.refused)
            if task.batch:
                made = make_folder(task.out.parent)
            outcome = (run_image(task, runner, settings) if task.is_image
                       else run_video(task, runner, settings, progress))
        except CommandError as exc:
            remove_empty(made)
            if len(tasks) == 1:
                raise
            outcome = failed(task, exc)
        if outcome.line:
            tell(outcome.line)
        outcomes.append(outcome)
    return outcomes


def failed(task: Task, error: CommandError) -> Outcome:
    """The outcome of a task of a batch that failed: its error, naming its input."""
    said = str(error)  # most messages name the input already
    named = said if said.startswith(task.source) else f"{task.source}: {said}"
    return Outcome(task, None, type(error)(named))  # the same kind: the same exit status


def make_folder(folder: Path) -> list[Path]:
    """Make `folder` and its missing parents; returns those it made, deepest first."""
    made = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{folder}: cannot make this output folder ({exc.strerror or exc})") from None
    return made


def remove_empty(folders: list[Path]) -> None:
    """Remove those of `folders` (deepest first) that are empty: a failed input leaves no trace."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty: an input wrote there
            pass
