"""vst-app's "Stylize": the job vst-run does on one input (audio kept, the same settings),
written into the app's work folder, with a callback per frame for the page's progress bar;
a render stops at its next frame when its page asks (Stop, the page closed or reloaded) or
the app stops."""
import threading
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

from vst.core.style_mix import StyleMix
from vst.engine.inputs import Task, default_output
from vst.engine.job import VideoJob, VideoSettings, stylize_video
from vst.engine.run import run_image, run_video
from vst.engine.runner import Runner

from .preview import Media, Runners


class RenderStopped(Exception):
    """Raised at a render's next frame once it is asked to stop: the job cleans up as on Ctrl-C."""


class Renders:
    """The renders running, by the browser session that asked for each."""

    def __init__(self):
        self.stops: dict[str, threading.Event] = {}
        self.idle = threading.Condition()

    @contextmanager
    def running(self, session: str) -> Iterator[Callable[[], None]]:
        """A render for `session`; yields the check to call at each frame (RenderStopped)."""
        stop = threading.Event()
        with self.idle:
            self.stops[session] = stop

        def check() -> None:
            if stop.is_set():
                raise RenderStopped
        try:
            yield check
        finally:
            with self.idle:
                if self.stops.get(session) is stop:
                    del self.stops[session]
                self.idle.notify_all()

    def stop(self, session: str | None = None) -> None:
        """Stop `session`'s render, or every one (None)."""
        with self.idle:
            for key, stop in self.stops.items():
                if session is None or key == session:
                    stop.set()

    def wait(self, timeout: float) -> None:
        """Until no render runs (a stopped one ends at its next frame)."""
        with self.idle:
            self.idle.wait_for(lambda: not self.stops, timeout)


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
