"""`vst-app`: the page (app.page) served on this machine. It binds 127.0.0.1 unless told
otherwise and makes no public link unless asked. Uploads, results and trainings live in one
temporary folder, cleaned of files older than --keep-minutes while it runs and removed when it
stops (Ctrl-C, SIGTERM), after any training it started has stopped."""
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import click

from vst.core.command import HELP, run_command
from vst.core.errors import InputError
from vst.samples import SAMPLE_CLIP
from vst.styles import shipped_styles

UPLOAD_LIMIT = "500mb"
RENDER_STOP_SECONDS = 30  # a render stops at its next frame: 0.9 s at 4K on a 2-core EPYC (docs/results.md)


def parse_upload_limit(ctx, param, value: str) -> str:
    """click callback: a size as Gradio takes it, a positive whole number and a unit."""
    size = re.sub(r"\s", "", value.lower())
    if not re.fullmatch(r"[1-9]\d*(b|kb|mb|gb|tb)", size):
        raise click.BadParameter(f"{value!r} is not a size such as 200mb or 2gb")
    return size


@click.command("vst-app", context_settings=HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on; 0.0.0.0 opens the page to the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@click.option("--max-upload", default=UPLOAD_LIMIT, show_default=True, callback=parse_upload_limit,
              help="Largest file the page accepts, e.g. 200mb or 2gb.")
@click.option("--keep-minutes", type=click.IntRange(1), default=60, show_default=True,
              help="Uploads and results older than this are deleted while the app runs.")
@click.option("--share", is_flag=True, help="Also make a public gradio.live link (off by default).")
def command(host, port, max_upload, keep_minutes, share):
    """Serve a local page to try the shipped styles on a video or an image and stylize it, and to
    train a style of your own."""
    work = Path(tempfile.mkdtemp(prefix="vst-app-"))
    try:  # whatever stops it, a missing extra at start-up included, takes the work folder with it
        os.environ["GRADIO_TEMP_DIR"] = str(work / "uploads")  # where Gradio keeps uploads and served files
        serve(work, host, port, max_upload, keep_minutes * 60, share)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def serve(work: Path, host: str, port: int, max_upload: str, keep_seconds: int, share: bool) -> None:
    """Serve the page until stopped; then stop what runs for it (the last training included)."""
    from .page import build_page
    from .preview import Runners
    from .render import Renders
    from .training import Trainings

    runners, renders, trainings, results = Runners(), Renders(), Trainings(), work / "results"
    page = build_page(runners, renders, trainings, results, keep_seconds)
    stopping = threading.Event()
    preload = threading.Thread(target=open_styles, args=(runners, stopping), daemon=True)
    preload.start()
    threading.Thread(target=remove_old, args=(results, keep_seconds, trainings.busy_folders),
                     daemon=True).start()
    try:
        try:
            # the sample clip is served from the installed package, outside the folder vst-app runs in
            page.queue().launch(server_name=host, server_port=port, share=share, max_file_size=max_upload,
                                allowed_paths=[str(SAMPLE_CLIP)], prevent_thread_lock=True, quiet=True)
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise InputError(f"cannot serve on {host}:{port} ({exc})") from None
        click.echo(f"vst-app: serving http://{host}:{port} (Ctrl-C stops it; work folder {work})")
        # in short naps, not one endless wait: a SIGTERM the kernel handed to another thread is
        # raised here only once this thread wakes
        while True:
            time.sleep(0.5)
    finally:
        stopping.set()
        renders.stop()  # each ends at its next frame, its file removed
        renders.wait(RENDER_STOP_SECONDS)
        preload.join()  # a process that exits while OpenVINO runs or compiles in another thread aborts
        page.close()
        trainings.close()
        runners.close()


def open_styles(runners, stopping: threading.Event) -> None:
    """Open every shipped style's model in turn, until `stopping`: the first preview of a style
    waits for its model (about a second) otherwise."""
    for style in shipped_styles():
        if stopping.is_set():
            return
        runners.get(style)


def remove_old(results: Path, seconds: int, busy: Callable[[], set[Path]]) -> None:
    """Every minute, the renders and trainings older than `seconds` go, but those still
    training (Gradio cleans its uploads itself)."""
    while True:
        time.sleep(60)
        running = busy()
        for folder in results.glob("*"):
            if folder not in running and time.time() - folder.stat().st_mtime > seconds:
                shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":
    main()
