"""`vst-run --workers N`: the tasks of a batch (engine.inputs) on N Ray workers, long videos
cut into keyframe chunks (engine.chunks) so that they spread over the workers too.

Each worker is a Ray actor holding its own runner: one GPU each where the cluster has GPUs,
else an even share of the CPU cores (pinned on this machine, so that OpenVINO, ONNX Runtime
and PyTorch each size their thread pools to the share). Local Ray (`ray.init()`) is the
default; `--ray-address` joins a running cluster, whose workers must see the inputs and
outputs at the same paths (a shared filesystem) and have vst installed.

Failures: a worker that dies is restarted and its piece retried (Ray's max_restarts /
max_task_retries), an unexpected error is retried the same way; bad input (CommandError)
is not, since it would fail again. A video whose piece fails is reported in one line while
the others finish. Nothing partial is left: chunks live in a hidden folder beside the
output and the join writes a temporary renamed on success; Ctrl-C or SIGTERM kills the
workers and removes all of it.
"""
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vst.core.command import require_writable_folder
from vst.core.cpu import usable_cores
from vst.core.errors import CommandError, InputError, check_number, check_whole
from vst.core.files import remove_temporaries, temporary_sibling

from .choice import installed
from .runner import ModelSpec
from .chunks import Chunk, can_chunk, chunk_settings, join_chunks, part_name, plan_chunks, remove_parts
from .inputs import Task
from .job import JobResult, VideoJob, VideoSettings, stylize_video
from .run import Outcome, failed, flawed_input, make_folder, remove_empty, run_image, run_video

RETRIES = 2                # per piece, after its first try
REPORT_SECONDS = 0.5       # how often a worker tells the driver its frames
MIN_CHUNK_SECONDS = 2.0    # chosen chunks are no shorter: each opens a decoder and an encoder


@dataclass(frozen=True)
class Scaling:
    """How vst-run spreads a batch (its options of the same names)."""
    workers: int = 1
    ray_address: str | None = None
    chunk_seconds: float | None = None   # None: chosen for the batch (chunk_length); 0: never

    def __post_init__(self):  # vst-run's option types check this; vst.stylize passes it on as given
        check_whole("workers", self.workers, 1)
        if self.chunk_seconds is not None:
            check_number("chunk_seconds", self.chunk_seconds, 0)

    @property
    def uses_ray(self) -> bool:
        return self.workers > 1 or self.ray_address is not None


@dataclass(frozen=True)
class Piece:
    """A whole task, or one chunk of a video task, for one worker to write at `out`."""
    task: Task
    chunk: Chunk | None = None
    out: Path | None = None   # the chunk's file; a whole task writes task.out


@dataclass
class VideoParts:
    """A chunked video's progress on the driver."""
    task: Task
    folder: Path
    chunks: list[Chunk]
    results: dict[int, JobResult] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.chunks)


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError("--workers and --ray-address need Ray: pip install 'vst[cluster]'") from None
    return ray


class StylizeWorker:
    """One worker (a Ray actor): its own runner, used for every piece it is given."""

    def __init__(self, model: ModelSpec, cores: list[int] | None):
        if cores:
            os.sched_setaffinity(0, cores)  # OpenVINO and ONNX Runtime size their pools from it
            if installed("torch"):  # torch does not: its pool is set here
                import torch

                torch.set_num_threads(len(cores))
        self.runner, self.error = None, None
        try:
            self.runner = model.open()
        except CommandError as exc:  # bad input: restarting the worker would not help
            self.error = exc

    def ready(self) -> str | None:
        """The runner's notice, once it is open; the error that kept it from opening."""
        if self.error is not None:
            raise self.error
        return self.runner.notice

    def run(self, piece: Piece, settings: VideoSettings, reports) -> Outcome | JobResult:
        """A whole task's Outcome, or a chunk's JobResult; bad input comes back as an Outcome
        with its error (raised, Ray would retry it). The frames done go to the `reports`
        queue as they are made."""
        frames, last = 0, time.monotonic()

        def on_frame() -> None:
            nonlocal frames, last
            frames += 1
            if time.monotonic() - last > REPORT_SECONDS:
                reports.put(frames)
                frames, last = 0, time.monotonic()

        task = piece.task
        try:
            if piece.chunk is not None:
                span = (piece.chunk.start, piece.chunk.end)
                job = VideoJob(task.source, piece.out, chunk_settings(settings), span)
                result = stylize_video(job, self.runner, on_frame=on_frame)
            elif task.is_image:
                result = run_image(task, self.runner, settings)
            else:
                result = run_video(task, self.runner, settings, False, on_frame)
        except CommandError as exc:
            result = Outcome(task, None, exc)
        reports.put(frames)
        return result


def start_ray(ray, address: str | None) -> None:
    """Local Ray on this machine's usable cores, or the cluster at `address`. Ray installs
    signal handlers of its own; vst's are put back, so that SIGTERM stops a batch as Ctrl-C
    does (core.command) and the workers and their files are cleaned up."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    kept = ({signum: signal.getsignal(signum) for signum in signals}
            if threading.current_thread() is threading.main_thread() else {})
    try:
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR", configure_logging=False, **({} if address else {"num_cpus": usable_cores()}))
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, ValueError, RuntimeError...
        where = f"--ray-address {address}" if address else "local Ray"
        raise CommandError(f"{where}: cannot start or join Ray ({_reason(exc)})") from None
    for signum, handler in kept.items():
        signal.signal(signum, handler)


def chunk_length(tasks: list[Task], workers: int) -> float:
    """Seconds per chunk: about two chunks per worker over the batch's videos, so that the
    last ones to finish are short; at least MIN_CHUNK_SECONDS."""
    from vst.core.media import picture_stream

    from .video_io import open_source, video_duration

    total = 0.0
    for task in tasks:
        if not task.is_image and Path(task.source).is_file():
            try:
                with open_source(task.source) as container:
                    total += video_duration(container, picture_stream(container, task.source)) or 0
            except CommandError:
                pass  # its worker will say why
    return max(total / (2 * workers), MIN_CHUNK_SECONDS)


def worker_options(ray, workers: int, local: bool) -> tuple[dict, list[list[int] | None]]:
    """(the actors' Ray options, each actor's cores to pin or None): one GPU per worker
    where the cluster has GPUs, else an even share of its CPUs."""
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), resources.get("CPU", 1)
    retry = {"max_restarts": RETRIES, "max_task_retries": RETRIES}
    if gpus:
        if workers > gpus:
            raise InputError(f"workers {workers}: the cluster has {gpus} GPU{'s' * (gpus > 1)}")
        return {"num_gpus": 1, "num_cpus": 1, **retry}, [None] * workers
    if not local:
        if workers > cpus:
            raise InputError(f"workers {workers}: the cluster has {cpus:g} CPUs")
        return {"num_cpus": max(1, int(cpus // workers)), **retry}, [None] * workers
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    share = max(1, len(cores) // workers) if cores else None
    pinned = [cores[i * share % len(cores):][:share] for i in range(workers)] if cores else [None] * workers
    return {"num_cpus": cpus / workers, **retry}, pinned


def plan_pieces(tasks: list[Task], settings: VideoSettings, seconds: float,
                parts: dict[Task, VideoParts]) -> list[Piece]:
    """Every task as pieces; a chunkable video longer than `seconds` as chunks, recorded
    in `parts`."""
    pieces = []
    for task in tasks:
        try:
            # a --start/--end part of a video runs whole: its cut and move back are the reader's
            chunks = (plan_chunks(task.source, seconds, settings.max_frames)
                      if seconds and not task.is_image and not settings.segment
                      and can_chunk(task.source, task.out) else [])
        except CommandError:
            chunks = []  # a whole piece: its worker reports what is wrong, as one process would
        if len(chunks) < 2:
            pieces.append(Piece(task))
            continue
        # the chunks' folder: named as long as the output's temporary, whose length was checked
        folder = temporary_sibling(task.out).with_suffix(".cut")
        parts[task] = VideoParts(task, folder, chunks)
        pieces += [Piece(task, chunk, folder / part_name(chunk, task.out)) for chunk in chunks]
    return pieces


def expected_frames(piece: Piece, settings: VideoSettings) -> int:
    """What a piece adds to the batch's progress bar: its frames (1 for an image)."""
    if piece.chunk is not None:
        return piece.chunk.frames
    if piece.task.is_image:
        return 1
    from .video_io import VideoReader

    try:
        reader = VideoReader(piece.task.source, audio=False, segment=settings.segment)
    except CommandError:
        return 0  # its worker will say why
    try:
        frames = reader.info.expected_frames or 0
    finally:
        reader.close()
    return min(frames, settings.max_frames) if settings.max_frames else frames


def describe_chunked(out: Path, frames: int, results: list[JobResult], workers: int, wall: float,
                     side_streams: str) -> str:
    first = results[0]
    return (f"{out}: {frames} frames {first.width}x{first.info.height} at {float(first.info.fps):g} fps"
            f"{side_streams}; {len(results)} chunks on {workers} workers, {wall:.1f} s = {frames / wall:.1f} fps")


def run_on_ray(planned: list[Task], model: ModelSpec, settings: VideoSettings, scaling: Scaling,
               tell: Callable[[str], None], notice: Callable[[str], None], progress: bool = True) -> list[Outcome]:
    """What stylize_inputs does with the `planned` tasks (engine.inputs), on scaling.workers
    Ray workers: one Outcome per task."""
    ray = import_ray()
    own = not ray.is_initialized()
    if own:
        start_ray(ray, scaling.ray_address)
    actors, parts, tasks, made = [], {}, [], []
    try:
        from ray.util.queue import Queue

        reports = Queue()
        options, cores = worker_options(ray, scaling.workers, scaling.ray_address is None)
        worker = ray.remote(StylizeWorker)
        actors = [worker.options(**options).remote(model, share) for share in cores]
        said = _first_ready(ray, [actor.ready.remote() for actor in actors])
        if said:
            notice(said)
        refused = [failed(task, InputError(task.refused)) for task in planned if task.refused]
        tasks = [task for task in planned if not task.refused]
        for task in tasks:  # as engine.run does, before any worker is busy
            if task.batch:
                made += make_folder(task.out.parent)
            else:
                require_writable_folder(task.out)
        seconds = (chunk_length(tasks, scaling.workers) if scaling.chunk_seconds is None
                   else scaling.chunk_seconds)
        pieces = plan_pieces(tasks, settings, seconds, parts)
        for video in parts.values():
            video.folder.mkdir()
        outcomes = refused + _schedule(ray, actors, pieces, parts, settings, reports, tell, progress)
        order = {task: index for index, task in enumerate(planned)}
        return sorted(outcomes, key=lambda outcome: order[outcome.task])  # the inputs' order
    finally:
        for actor in actors:
            ray.kill(actor)  # a worker killed mid-video leaves its temporary behind: removed next
        for task in tasks:
            remove_temporaries(task.out)
        for video in parts.values():
            remove_parts(video.folder)
        remove_empty(sorted(made, key=lambda folder: len(folder.parts), reverse=True))  # those no input wrote to
        if own:
            ray.shutdown()


def _first_ready(ray, refs):
    """The first worker's ready(), once every worker has opened its runner."""
    try:
        return ray.get(refs)[0]
    except (ray.exceptions.RayTaskError, ray.exceptions.RayActorError) as exc:
        cause = getattr(exc, "cause", None) or exc
        if isinstance(cause, CommandError):
            raise cause from None
        raise CommandError(f"a worker could not start ({_reason(exc)})") from None


def _reason(exc) -> str:
    """One line for what a Ray error wraps (its last line: the exception itself)."""
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip()
    return text.splitlines()[-1] if text else type(cause).__name__


def _schedule(ray, actors, pieces: list[Piece], parts: dict[Task, VideoParts], settings: VideoSettings,
              reports, tell: Callable[[str], None], progress: bool) -> list[Outcome]:
    from tqdm import tqdm

    sizes = {piece: expected_frames(piece, settings) for piece in pieces}
    # longest first, so that short pieces fill the end
    queue, idle, running = deque(sorted(pieces, key=lambda piece: -sizes[piece])), list(actors), {}
    outcomes: dict[Task, Outcome] = {}
    began = time.monotonic()
    with tqdm(total=sum(sizes.values()), unit="frame", desc=f"{len(actors)} workers", dynamic_ncols=True,
              disable=not progress) as bar:
        while queue or running:
            while queue and idle:
                piece = queue.popleft()
                if piece.task in outcomes:
                    continue  # another piece of this video failed already
                actor = idle.pop()
                running[actor.run.remote(piece, settings, reports)] = (piece, actor)
            done = ray.wait(list(running), num_returns=1, timeout=REPORT_SECONDS)[0] if running else []
            while not reports.empty():
                bar.update(reports.get_nowait())
            for ref in done:
                piece, actor = running.pop(ref)
                idle.append(actor)
                outcome = _finished(ray, ref, piece, parts, settings, len(actors), began)
                if outcome is not None and piece.task not in outcomes:
                    outcomes[piece.task] = outcome
                    if outcome.line:
                        tell(outcome.line)
    return [outcomes[task] for task in dict.fromkeys(piece.task for piece in pieces)]


def _finished(ray, ref, piece: Piece, parts: dict[Task, VideoParts], settings: VideoSettings,
              workers: int, began: float) -> Outcome | None:
    """The task's Outcome once this piece settles it (its last chunk joined, or a failure)."""
    task = piece.task
    try:
        result = ray.get(ref)
    except (ray.exceptions.RayTaskError, ray.exceptions.RayActorError) as exc:
        return Outcome(task, None, CommandError(f"{task.source}: failed on a worker after "
                                                f"{RETRIES + 1} tries ({_reason(exc)})"))
    if isinstance(result, Outcome):
        if result.error is not None and not str(result.error).startswith(task.source):
            result.error = type(result.error)(f"{task.source}: {result.error}")
        return result
    if result.decode_error:
        return Outcome(task, None, InputError(f"{task.source}: decoding stopped in chunk "
                                              f"{piece.chunk.index} ({result.decode_error})"))
    video = parts[task]
    video.results[piece.chunk.index] = result
    return _join(video, settings, workers, time.monotonic() - began) if video.done else None


def _join(video: VideoParts, settings: VideoSettings, workers: int, wall: float) -> Outcome:
    task = video.task
    results = [video.results[chunk.index] for chunk in video.chunks]
    files = [video.folder / part_name(chunk, task.out) for chunk in video.chunks]
    planned = sum(chunk.frames for chunk in video.chunks)
    try:
        # as one worker does: side streams past the video dropped only where --max-frames cut them
        cut = settings.max_frames is not None and planned >= settings.max_frames
        joined = join_chunks(task.source, files, task.out, settings, cut)
    except OSError as exc:
        return Outcome(task, None, CommandError(f"{task.out}: cannot write ({exc.strerror or exc}); "
                                                "nothing written"))
    finally:
        remove_parts(video.folder)
    # a chunk's reader sees only its own frames: a change of size is said once, by the first that saw one
    resized = next((note for result in results for note in result.left_out), None)
    notes = joined.left_out + ((resized,) if resized else ())
    outcome = Outcome(task, describe_chunked(task.out, joined.frames, results, workers, wall, joined.side_streams),
                      notes=tuple(f"{task.source}: {note}" for note in notes))
    if joined.frames != planned:
        outcome.error = InputError(f"{task.source}: {joined.frames} of the {planned} frames its packets "
                                   f"announce were written to {task.out}")
    else:  # the last chunk's reader measures the whole video's end (VideoReader.falls_short)
        outcome.error = flawed_input(task.source, task.out, joined.frames,
                                     tuple(why for result in results for why in result.damaged), results[-1].short)
    return outcome
