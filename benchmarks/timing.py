"""Per-frame times and their summary."""
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


def time_frames(step: Callable[[np.ndarray], float], frames: list[np.ndarray], warmup: int,
                count: int) -> Stats:
    """Run step(frame) `warmup` times untimed, then `count` times; step returns the seconds
    its frame took (host clock or device events, as the backend can measure)."""
    for i in range(warmup):
        step(frames[i % len(frames)])
    return Stats.of([step(frames[(warmup + i) % len(frames)]) for i in range(count)])
