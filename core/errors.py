import math
from numbers import Integral, Real

import numpy as np


class CommandError(Exception):
    """A failure that command-line entry points report as one line on stderr and a
    non-zero exit status (`exit_code`), without a traceback: 1 for a failed check."""
    exit_code = 1


class InputError(CommandError):
    """Bad user input (missing file, empty folder, wrong checkpoint...): exit status 2."""
    exit_code = 2


def check_whole(name: str, value, low: int, high: int | None = None) -> None:
    """ValueError unless `value` is a whole number in [low, high] (a bool is not one): what a
    CLI option's type checks, for the same setting reached through the Python API."""
    if not (isinstance(value, Integral) and not isinstance(value, bool)
            and low <= value and (high is None or value <= high)):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a whole number {bounds}, got {value!r}")


def check_flag(name: str, value) -> None:
    """ValueError unless `value` is True or False: a flag's value, where "False" is truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def check_number(name: str, value, low: float, high: float | None = None) -> None:
    """ValueError unless `value` is a finite real number in [low, high] (a bool is not one),
    likewise for an option that takes a number."""
    if not (isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
            and low <= value and (high is None or value <= high)):
        bounds = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be a number {bounds}, got {value!r}")
