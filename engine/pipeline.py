"""decode -> stylize -> encode as three stages joined by bounded queues.

A decoder thread and an encoder thread (PyAV releases the GIL in FFmpeg) run beside the
stylizer on the calling thread, so the stylizer never waits on disk while a queue has work,
and memory stays bounded for any video length. Audio packets travel through both queues in
container order, so the output interleaves as the input did.
"""
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from .video_io import Frame

QUEUE_FRAMES = 8          # frames each queue holds at most: slack for a slow frame or packet
QUEUE_BYTES = 64 * 2**20  # ... and their RGB pixels at most (at least 2 frames: 4K's are 25 MB)
_END = object()


def queue_frames(width: int, height: int) -> int:
    """How many frames of this size each queue holds. A stylized entry carries its input
    frame too, so eight 4K frames a queue could hold 0.6 GB; two are enough slack where a
    frame takes seconds to stylize and a tenth of that to decode or encode."""
    return max(2, min(QUEUE_FRAMES, QUEUE_BYTES // (3 * width * height)))


@dataclass
class StageTimes:
    """Seconds each stage spent working (not waiting), and the frames through it."""
    decode: float = 0.0
    stylize: float = 0.0
    encode: float = 0.0
    frames: int = 0
    wall: float = 0.0

    def throughput(self, stage: str) -> float:
        busy = getattr(self, stage)
        return self.frames / busy if busy else float("inf")


@dataclass
class _Stage:
    """A worker thread; the first error it raises is re-raised on the caller's thread."""
    target: Callable[[], None]
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.target()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc


def run_pipeline(items: Iterable, submit: Callable[[np.ndarray], object],
                 write_frame: Callable[[np.ndarray, Frame], None], write_side: Callable,
                 collect: Callable[[object], np.ndarray] = lambda result: result, depth: int = 1,
                 compose: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 max_frames: int | None = None, on_frame: Callable[[], None] = lambda: None,
                 queued: int = QUEUE_FRAMES) -> StageTimes:
    """Stylize every Frame of `items` (uint8 (H, W, 3) RGB) and write it; pass anything else
    (the packets of the audio and subtitle streams) to write_side, in the same order. submit(frames (1, H, W, 3)) starts a
    frame and collect(its result) finishes it; up to `depth` frames are in flight (a
    synchronous runner: submit returns the output, collect is the identity, depth 1).
    compose(input, output) builds the written frame. Each queue holds up to `queued` frames
    (queue_frames)."""
    times = StageTimes()
    decoded, stylized = queue.Queue(queued), queue.Queue(queued)
    stop = threading.Event()

    def put(q, item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def decode():
        frames, iterator, start = 0, iter(items), time.perf_counter()
        for item in iterator:
            times.decode += time.perf_counter() - start
            if isinstance(item, Frame):
                if max_frames is not None and frames >= max_frames:
                    break
                frames += 1
            if not put(decoded, item):
                return
            start = time.perf_counter()
        put(decoded, _END)

    def encode():
        while not stop.is_set():
            try:
                item = stylized.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _END:
                return
            start = time.perf_counter()
            if isinstance(item, tuple):
                write_frame(*item)
            else:
                write_side(item)
            times.encode += time.perf_counter() - start

    workers = [_Stage(decode), _Stage(encode)]
    wall = time.perf_counter()
    for worker in workers:
        worker.thread.start()
    in_flight = deque()  # (result or None for a side-stream packet, item) in container order
    submitted = 0         # frames in in_flight

    def finish(keep_frames: int) -> bool:
        """Write out entries, oldest first, until at most keep_frames frames are in flight."""
        nonlocal submitted
        while in_flight and (submitted > keep_frames or in_flight[0][0] is None):
            result, item = in_flight.popleft()
            if result is not None:
                start = time.perf_counter()
                output = collect(result)[0]
                times.stylize += time.perf_counter() - start
                times.frames += 1
                submitted -= 1
                item = (compose(item.pixels, output) if compose else output, item)
                on_frame()
            if not put(stylized, item):
                return False
        return True

    try:
        while True:
            item = _get(decoded, workers)
            if item is _END:
                break
            result = None
            if isinstance(item, Frame):
                start = time.perf_counter()
                result = submit(item.pixels[None])
                times.stylize += time.perf_counter() - start
                submitted += 1
            in_flight.append((result, item))
            if not finish(keep_frames=depth - 1):
                break
            _raise_from(workers)
        finish(keep_frames=0)
        put(stylized, _END)
        while workers[1].thread.is_alive():
            workers[1].thread.join(0.1)
            _raise_from(workers)
        _raise_from(workers)
    finally:
        stop.set()
        for worker in workers:
            worker.thread.join(5)
    times.wall = time.perf_counter() - wall
    return times


def _get(q: queue.Queue, workers: list[_Stage]):
    """q.get that wakes up to re-raise a worker's error instead of waiting forever."""
    while True:
        _raise_from(workers)
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue


def _raise_from(workers: list[_Stage]) -> None:
    for worker in workers:
        if worker.error is not None:
            raise worker.error
