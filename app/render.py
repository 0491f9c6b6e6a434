"""vst-app's "Stylize": the job vst-run does on one input (audio kept, the same settings),
written into the app's work folder, with a callback per frame for the page's progress bar."""
import uuid
from pathlib import Path
from typing import Callable

from dataclasses import replace

from vst.core.style_mix import StyleMix
from vst.engine.inputs import Task, default_output
from vst.engine.job import VideoJob, VideoSettings, stylize_video
from vst.engine.run import run_image, run_video
from vst.engine.runner import Runner

from .preview import Media, Runners


def render(media: Media, style: str, mix: StyleMix, settings: VideoSettings, runners: Runners,
           results: Path, on_frame: Callable[[], None]) -> tuple[Path, str]:
    """The stylized file, in a folder of its own under `results` (so two renders of one
    upload never share a name), and vst-run's line about it (or its warning, for an input
    that decoded only in part), then a line per input stream left out; raises InputError /
    CommandError as vst-run would."""
    folder = results / uuid.uuid4().hex
    folder.mkdir(parents=True)
    out = folder / default_output(str(media.path), style).name
    task = Task(str(media.path), out, "image" if media.is_image else "video")
    runner = runners.get(style, mix)
    outcome = (run_image(task, runner, settings) if media.is_image
               else run_video(task, runner, settings, progress=False, on_frame=on_frame))
    return out, "\n\n".join([str(outcome.error or outcome.line), *outcome.notes])


def input_part(media: Media, settings: VideoSettings, results: Path, on_frame: Callable[[], None]) -> Path:
    """The input's frames (and audio) of a render's --start/--end part, as the render reads
    and writes them, to play beside it: the whole input would start elsewhere. Decoding and
    x264 "ultrafast" alone, a fraction of what stylizing them takes."""
    folder = results / uuid.uuid4().hex
    folder.mkdir(parents=True)
    job = VideoJob(str(media.path), folder / f"{media.path.stem}.part.mp4", replace(settings, side_by_side=False))
    stylize_video(job, Runner("the input", "input", submit=lambda frames: frames), progress=False, on_frame=on_frame)
    return job.out
