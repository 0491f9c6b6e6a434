"""Per-frame times and their summary."""
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Stats:
    frames: int
    median_ms: float
    p10_ms: float
    p90_ms: float

    @property
    def fps(self) -> float:
        return 1000 / self.median_ms

    @classmethod
    def of(cls, seconds: list[float]) -> "Stats":
        ms = np.asarray(seconds) * 1000
        return cls(len(ms), *(float(np.percentile(ms, q)) for q in (50, 10, 90)))

    def as_record(self) -> dict:
        return {**asdict(self), "fps": self.fps}

    def describe(self) -> str:
        return f"{self.median_ms:.1f} [{self.p10_ms:.1f}-{self.p90_ms:.1f}]"


@dataclass(frozen=True)
class Timed:
    """One thing to time: step(frame) returns the seconds its frame took (host clock or device
    events, as the backend can measure); `warmup` untimed frames, then `count` timed."""
    step: Callable[[np.ndarray], float]
    warmup: int
    count: int


def time_interleaved(timed: list[Timed], frames: list[np.ndarray], block: int = 5,
                     pause_s: float = 0.3) -> list[Stats]:
    """Each one's Stats, timed in turns of `block` frames after all are warm: a machine whose
    speed drifts during a run (a shared VM, a CPU that heats up) then slows every row of the
    run alike, and rows stay comparable where one-after-the-other timings moved by 13 %. Each
    turn starts `pause_s` after the last: ONNX Runtime's and OpenMP's threads spin on the cores
    for a while after their work, which would be billed to the next backend (20 ms a frame for
    OpenVINO after ONNX Runtime, measured)."""
    for one in timed:
        for i in range(one.warmup):
            one.step(frames[i % len(frames)])
    seconds: list[list[float]] = [[] for _ in timed]
    while any(len(taken) < one.count for one, taken in zip(timed, seconds)):
        for one, taken in zip(timed, seconds):
            if len(taken) < one.count and len(timed) > 1:
                time.sleep(pause_s)
            for _ in range(min(block, one.count - len(taken))):
                taken.append(one.step(frames[(one.warmup + len(taken)) % len(frames)]))
    return [Stats.of(taken) for taken in seconds]
