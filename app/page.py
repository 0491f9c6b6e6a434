"""vst-app's page (Gradio). "Stylize": upload a video or an image, or take the sample clip;
pick a shipped style from its thumbnail; tune strength and colour on a preview frame; then
stylize the whole file as vst-run would, with a progress bar, and get it back beside the input.
"Train a style": the quick recipe on an uploaded style image, with its progress and preview,
then the model to download.

Every error a user can cause (a file that is not media, a clip with no video) shows as a
message on the page; the server goes on. Paths come only from Gradio's own upload folder or
the app's: the browser never names a file."""
import itertools
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import gradio as gr

from vst.core.errors import CommandError
from vst.core.style_mix import StyleMix
from vst.engine.job import VideoSettings
from vst.samples import SAMPLE_CLIP
from vst.styles import STYLES, THUMBNAIL_SUFFIX, describe_style, shipped_styles

from .preview import Media, Previewer, Runners
from .render import Renders, RenderStopped, input_part, render
from .training import Trainings, missing_extra

DEFAULT_STYLE = "candy"
NO_INPUT = "Upload a video or an image first, or take the sample clip."
STOPPED = "Stopped; nothing was written."
POLL_SECONDS = 2  # how often a training's progress and preview are shown again


def style_gallery() -> list[tuple[str, str]]:
    """(thumbnail, the card's one-line facts) of each shipped style."""
    return [(str(STYLES / f"{name}{THUMBNAIL_SUFFIX}"), describe_style(name)) for name in shipped_styles()]


def without_paths(text: str) -> str:
    """`text` with each absolute path cut to its file name: the page shows no server paths."""
    return re.sub(r"(?:/[^/\s:]+)+/(?=[^/\s:]+)", "", text)


def user_error(message: str) -> gr.Error:
    """A message on the page; no traceback on the console: it is an answer, not a fault."""
    return gr.Error(message, print_exception=False)


@contextmanager
def on_the_page():
    """vst's errors for a user (bad input, a job that failed, a setting out of range) as a
    message on the page."""
    try:
        yield
    except (CommandError, ValueError) as exc:
        raise user_error(without_paths(str(exc))) from None


@dataclass
class Loaded:
    """A session's file, probed once at its load: None before one loads, and again from the
    moment a load starts until it succeeds, so that a refused file never leaves the one
    before it to be stylized. Held in a gr.State and changed in place: Gradio keeps a
    handler's outputs as they were when it raises, and an API client calls /load alone,
    without the page's step that forgets the file first."""
    media: Media | None = None


def build_page(runners: Runners, renders: Renders, trainings: Trainings, results: Path,
               keep_seconds: int) -> gr.Blocks:
    with gr.Blocks(title="vst: neural style transfer for video", delete_cache=(60, keep_seconds)) as page:
        gr.Markdown("# vst")
        with gr.Tab("Stylize"):
            stylize_tab(runners, renders, results)
        with gr.Tab("Train a style"):
            train_tab(trainings, results)

        def page_closed(request: gr.Request):  # closed or reloaded: no one will see its render
            renders.stop(request.session_hash)
        page.unload(page_closed)
    return page


def stylize_tab(runners: Runners, renders: Renders, results: Path) -> None:
    styles = shipped_styles()
    previewer = Previewer(runners)

    def load(path: str | None, loaded: Loaded):
        """The upload checked once: the session keeps the Media it probed."""
        loaded.media = None
        if not path:
            raise user_error(NO_INPUT)
        with on_the_page():
            loaded.media = media = Media.probe(Path(path))
        seconds = gr.update(maximum=max(media.duration, 0.01), value=0, interactive=not media.is_image)
        return seconds, f"**{media.path.name}**: " + (
            "an image" if media.is_image else f"a video, {media.duration:.1f} s")

    def forget(loaded: Loaded):
        loaded.media = None
        return None, None, ""

    def preview(loaded: Loaded, seconds, style, strength, preserve):
        media = loaded.media
        if media is None:
            return None, None
        with on_the_page():
            return previewer(media, seconds, style, StyleMix(strength, preserve))

    def stylize(loaded: Loaded, style, strength, preserve, height, crf, start=0, end=0, ticket=None,
                request: gr.Request = None, progress=gr.Progress()):
        media = loaded.media
        if media is None:
            raise user_error(NO_INPUT)
        with on_the_page():
            # a whole number as int, anything else as given, for VideoSettings to name as typed (2.5, not 2)
            settings = VideoSettings(crf=int(crf), height=(int(height) if float(height).is_integer() else height)
                                     if height else None,
                                     start=float(start or 0), end=float(end) if end else None)
        total = media.frames or 0
        if settings.segment and media.frames and media.duration:  # the part's share of the frames
            total = round(media.frames * settings.segment.length(media.duration) / media.duration)

        with renders.running(request.session_hash if request else "", ticket) as check_stop:
            def counter(desc: str) -> Callable[[], None]:
                done = itertools.count(1)

                def on_frame():
                    check_stop()
                    progress((next(done), total or None), desc=desc, unit="frames")
                return on_frame

            out = None
            try:
                check_stop()  # stopped while it waited in the queue
                with on_the_page():
                    out, line = render(media, style, StyleMix(strength, preserve), settings, runners, results,
                                       counter(f"stylizing with {style}"))
                    # a part plays beside the input's same part, not beside the whole input
                    before = (None if media.is_image else str(media.path) if not settings.segment else
                              str(input_part(media, settings, results, counter("the input's part, to play beside it"))))
            except RenderStopped:
                if out is not None:  # stopped while the input's part was cut: the render goes too
                    shutil.rmtree(out.parent, ignore_errors=True)
                return None, None, None, None, STOPPED
        summary = without_paths(line)
        if media.is_image:
            return None, None, str(out), str(out), summary
        return before, str(out), None, str(out), summary

    source = gr.State(Loaded())  # each session gets a copy of its own
    style = gr.State(DEFAULT_STYLE)
    gr.Markdown("Stylize a video or an image with a shipped style: pick one, tune it on a preview "
                "frame, then stylize the whole file (audio and subtitles kept).")
    with gr.Row():
        upload = gr.File(label="Video or image", file_types=["video", "image"], elem_id="upload")
        with gr.Column():
            sample = gr.Button("Use the sample clip", elem_id="sample")
            about = gr.Markdown(elem_id="about")
    gallery = gr.Gallery(style_gallery(), label="Style", columns=len(styles), height=240,
                         selected_index=styles.index(DEFAULT_STYLE), allow_preview=False,
                         elem_id="styles")
    with gr.Row():
        strength = gr.Slider(0, 1, 1, step=0.05, label="Strength", elem_id="strength")
        preserve = gr.Checkbox(label="Keep the input's colours", elem_id="preserve")
        seconds = gr.Slider(0, 1, 0, step=0.1, label="Preview at (seconds)", elem_id="seconds")
    with gr.Row():
        original = gr.Image(label="Input frame", interactive=False, elem_id="original")
        stylized = gr.Image(label="Preview", interactive=False, elem_id="preview")
    with gr.Row():
        height = gr.Number(0, label="Height in pixels (0: the input's)", minimum=0, elem_id="height")
        crf = gr.Slider(0, 51, 18, step=1, label="Quality (x264 CRF; lower is better)", elem_id="crf")
    with gr.Row():
        start = gr.Number(0, label="A video from (seconds)", minimum=0, elem_id="start")
        end = gr.Number(0, label="to (seconds; 0: its end)", minimum=0, elem_id="end")
    with gr.Row():
        go = gr.Button("Stylize", variant="primary", elem_id="stylize")
        halt = gr.Button("Stop", elem_id="stop-render")
    with gr.Row():
        before = gr.Video(label="Input", interactive=False, elem_id="input-video")
        after = gr.Video(label="Output", interactive=False, elem_id="output-video")
        after_image = gr.Image(label="Output image", interactive=False, elem_id="output-image")
    download = gr.File(label="Download", interactive=False, elem_id="download")
    summary = gr.Markdown(elem_id="summary")

    shown = [source, seconds, style, strength, preserve]
    hidden = {"api_visibility": "private"}  # steps of the page; the API names one of each
    # the file shown before is dropped first: a refused or cleared upload leaves none to stylize
    forgotten = [original, stylized, about]
    upload.clear(forget, source, forgotten, **hidden)
    upload.upload(forget, source, forgotten, **hidden).then(load, [upload, source], [seconds, about],
                                                             api_name="load").then(
        preview, shown, [original, stylized], **hidden)
    sample.click(lambda loaded: load(str(SAMPLE_CLIP), loaded), source, [seconds, about], api_name="sample").then(
        preview, shown, [original, stylized], **hidden)

    def pick(event: gr.SelectData):
        return styles[event.index]
    gallery.select(pick, None, style, **hidden).then(preview, shown, [original, stylized], **hidden)
    style_name = gr.Dropdown(styles, value=DEFAULT_STYLE, visible=False)  # the API's way to pick
    style_name.change(lambda name: name, style_name, style, api_name="style")
    for control in (strength, preserve, seconds):
        control.change(preview, shown, [original, stylized], show_progress="hidden", trigger_mode="always_last",
                       api_name="frame" if control is strength else None,
                       **({} if control is strength else hidden))
    def take_ticket(request: gr.Request) -> int:
        return renders.ask(request.session_hash)
    # the ticket is taken at the click, not in the queue: a Stop clicked while it waits stops it
    ticket = gr.State(None)
    rendering = go.click(take_ticket, None, ticket, queue=False, **hidden).then(
        stylize, [source, style, strength, preserve, height, crf, start, end, ticket],
        [before, after, after_image, download, summary],
        concurrency_limit=1, concurrency_id="render", api_name="stylize")

    def stop_render(request: gr.Request):
        renders.stop(request.session_hash)
        return STOPPED
    # not behind the render it stops; `cancels` drops a render still waiting in the queue (the
    # page asks Gradio to), and Renders stops one that has started, at its next frame
    halt.click(stop_render, None, summary, queue=False, api_name="stop_render", cancels=[rendering])


def train_tab(trainings: Trainings, results: Path) -> None:
    why_not = missing_extra()

    def train(style_image: str | None, data: list[str] | None, iterations):
        """Progress lines and the preview while it trains, then the model and its card."""
        if not style_image:
            raise user_error("Upload a style image first.")
        with on_the_page():
            run = trainings.start(Path(style_image), [Path(path) for path in data or [SAMPLE_CLIP]], results,
                                  int(iterations) or None)
        try:
            while run.running():
                state = run.state()
                yield state.describe(), state.preview and str(state.preview), None
                time.sleep(POLL_SECONDS)
            with on_the_page():
                made = run.finish()
        finally:
            run.stop()  # the page went away: vst-train saves the model so far
        state = run.state()
        yield (f"Trained {state.iteration} iterations in {state.seconds / 60:.1f} min. Download "
               f"**{made[0].name}** and run it: `vst-run VIDEO --engine {made[0].name}`",
               state.preview and str(state.preview), [str(path) for path in made])

    gr.Markdown("Train a model of your own style image in minutes on this CPU: vst-train's quick recipe "
                "starts from a shipped model and learns from your photos or clips (the sample clip if you "
                "give none). Stop keeps the model trained so far."
                + (f"\n\n**{why_not}**" if why_not else ""))
    with gr.Row():
        style_image = gr.Image(label="Style image", type="filepath", elem_id="train-style")
        data = gr.File(label="Photos or clips (optional)", file_count="multiple", file_types=["image", "video"],
                       elem_id="train-data")
    iterations = gr.Number(0, precision=0, minimum=0, visible=False)  # 0: the recipe's; tests give fewer
    with gr.Row():
        start = gr.Button("Train", variant="primary", interactive=why_not is None, elem_id="train")
        stop = gr.Button("Stop", elem_id="train-stop")
    status = gr.Markdown(elem_id="train-status")
    preview = gr.Image(label="Training preview: input | stylized", interactive=False, elem_id="train-preview")
    model = gr.File(label="Model and its card", file_count="multiple", interactive=False, elem_id="train-model")
    start.click(train, [style_image, data, iterations], [status, preview, model],
                concurrency_limit=1, concurrency_id="train", api_name="train")
    stop.click(trainings.stop_latest, None, None, api_name="stop_training")
