"""Per-frame times and their summary."""
import math
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


PAUSE_S = 0.3  # idle time before each turn
TURNS = 4       # turns per timed thing


@dataclass(frozen=True)
class Timed:
    """One thing to time: step(frame) returns the seconds its frame took (host clock or device
    events, as the backend can measure); `warmup` untimed frames, then `count` timed."""
    step: Callable[[np.ndarray], float]
    warmup: int
    count: int


def time_interleaved(timed: list[Timed], frames: list[np.ndarray]) -> list[Stats]:
    """Each one's Stats, all warmed first and then timed in TURNS turns each, one after the
    other, so that a change of the machine's speed during a run (a shared VM's neighbours, a
    CPU's clock) falls on every row instead of on whichever ran then. With more than one,
    each turn starts PAUSE_S after the last and with one untimed frame: ONNX Runtime's and
    OpenMP's threads spin on the cores for a while after their work (20 ms a frame for
    OpenVINO right after ONNX Runtime), and a GPU lowers its clock when idle."""
    for one in timed:
        for i in range(one.warmup):
            one.step(frames[i % len(frames)])
    seconds: list[list[float]] = [[] for _ in timed]
    while any(len(taken) < one.count for one, taken in zip(timed, seconds)):
        for one, taken in zip(timed, seconds):
            if len(taken) >= one.count:
                continue
            if len(timed) > 1:
                time.sleep(PAUSE_S)
                one.step(frames[0])
            for _ in range(min(math.ceil(one.count / TURNS), one.count - len(taken))):
                taken.append(one.step(frames[(one.warmup + len(taken)) % len(frames)]))
    return [Stats.of(taken) for taken in seconds]
