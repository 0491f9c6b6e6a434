"""vst-app's "Stylize": the job vst-run does on one input (audio kept, the same settings),
written into the app's work folder, with a callback per frame for the page's progress bar;
a render stops at its next frame when its page asks (Stop, the page closed or reloaded) or
the app stops."""
import shutil
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
    """The renders asked for and running, by the browser session that asked for each. A Stop
    stops every render its session asked for before it: a running one at its next frame, one
    still queued as soon as it starts (Gradio's cancel of a queued event can lose the race with
    the queue handing it out)."""

    def __init__(self):
        self.stops: dict[str, threading.Event] = {}  # the running render's, by session
        self.asked: dict[str, int] = {}  # the tickets handed out, by session
        self.stopped: dict[str, int] = {}  # a render with a ticket up to this is stopped
        self.idle = threading.Condition(threading.RLock())

    def ask(self, session: str) -> int:
        """The ticket of a render `session` asks for now, to hand to `running` when it starts."""
        with self.idle:
            self.asked[session] = ticket = self.asked.get(session, 0) + 1
        return ticket

    @contextmanager
    def running(self, session: str, ticket: int | None = None) -> Iterator[Callable[[], None]]:
        """A render for `session` (its ticket from `ask`; None: asked now); yields the check to
        call at each frame (RenderStopped)."""
        stop = threading.Event()
        with self.idle:
            if (ticket or self.ask(session)) <= self.stopped.get(session, 0):
                stop.set()
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
        """Stop `session`'s renders, or every one (None)."""
        with self.idle:
            for key in self.asked if session is None else [session]:
                self.stopped[key] = self.asked.get(key, 0)
            for key, stop in self.stops.items():
                if session is None or key == session:
                    stop.set()

    def wait(self, timeout: float) -> None:
        """Until no render runs (a stopped one ends at its next frame)."""
        with self.idle:
            self.idle.wait_for(lambda: not self.stops, timeout)


@contextmanager
def own_folder(results: Path) -> Iterator[Path]:
    """A new folder under `results` for one render's files (two renders of one upload never
    share a name), removed if the render fails or stops: it leaves no empty folder behind."""
    folder = results / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def render(media: Media, style: str, mix: StyleMix, settings: VideoSettings, runners: Runners,
           results: Path, on_frame: Callable[[], None]) -> tuple[Path, str]:
    """The stylized file, in a folder of its own under `results` (own_folder), and vst-run's
    line about it (or its warning, for an input that decoded only in part), then a line per
    input stream left out; raises InputError / CommandError as vst-run would."""
    with own_folder(results) as folder:
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
    with own_folder(results) as folder:
        job = VideoJob(str(media.path), folder / f"{media.path.stem}.part.mp4", replace(settings, side_by_side=False))
        stylize_video(job, Runner("the input", "input", submit=lambda frames: frames), progress=False,
                      on_frame=on_frame)
    return job.out
