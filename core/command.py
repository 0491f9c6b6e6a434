"""How every vst command ends: one line on stderr and an exit status, never a traceback
for a failure the user can act on."""
import math
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from numbers import Real
from pathlib import Path

import click

from .errors import CommandError, InputError
from .files import temporary_sibling
from .frame_io import MAX_SIDE
from .paths import portable


HELP = {"help_option_names": ["-h", "--help"]}  # every vst command's context_settings


def parse_resolution(ctx, param, value: str | None) -> tuple[int, int] | None:
    """click callback for WIDTHxHEIGHT options."""
    if value is None:
        return None
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not WIDTHxHEIGHT, e.g. 640x360") from None
    if width < 1 or height < 1:
        raise click.BadParameter(f"{value!r} must be positive")
    if max(width, height) > MAX_SIDE:
        raise click.BadParameter(f"{value!r}: at most {MAX_SIDE} pixels a side")
    return width, height


class FiniteRange(click.FloatRange):
    """click.FloatRange that also refuses NaN, which passes every comparison, and ±inf."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


TIME = re.compile(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)", re.ASCII)  # [[HH:]MM:]SS[.s], digits only


def parse_time(value) -> float:
    """Seconds from a number or text: SECONDS (90, 90.5) or [HH:]MM:SS[.s] (1:30, 0:01:30.5),
    as players show a time; ValueError for anything else, or a negative or endless time."""
    seconds = None
    if isinstance(value, str) and (match := TIME.fullmatch(value.strip())):
        hours, minutes, rest = match.groups()
        # the first field is open-ended (90:00 is 90 minutes); those after it stay below 60
        if (hours is None or int(minutes) < 60) and (minutes is None or float(rest) < 60):
            seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(rest)
    elif isinstance(value, Real) and not isinstance(value, bool):
        seconds = float(value)
    if seconds is None or not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"{value!r} is not a time: SECONDS or [HH:]MM:SS[.s], e.g. 90 or 1:30")
    return seconds


class TimeParam(click.ParamType):
    """A click option that takes a time (parse_time)."""
    name = "TIME"

    def convert(self, value, param, ctx):
        try:
            return parse_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def require_writable_folder(path: Path) -> None:
    """Refuse an output path that is a folder, or whose folder is missing or read-only, before
    any work starts."""
    try:
        if Path(path).is_dir():
            raise InputError(f"{path}: is a folder; give the output file's name")
        folder = Path(path).parent
        if not folder.is_dir():
            raise InputError(f"{folder}: output folder does not exist")
        if not os.access(folder, os.W_OK):
            raise InputError(f"{folder}: output folder is not writable")
        temporary = temporary_sibling(Path(path))  # what it is written under first (core.files)
        if max(len(Path(path).name.encode()), len(temporary.name.encode())) > os.pathconf(folder, "PC_NAME_MAX"):
            raise InputError(f"{path}: cannot write there (File name too long)")  # as the OS says it
        _try_creating(temporary)
    except OSError as exc:  # a name longer than the file system takes, and the like
        raise InputError(f"{path}: cannot write there ({exc.strerror or exc})") from None


def _try_creating(temporary: Path) -> None:
    """Create the temporary and remove it: a folder that takes no new file although it reads
    as writable (/proc, a full inode table) is refused before the work, not after it."""
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return  # this process's own, being written
    os.unlink(temporary)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C's KeyboardInterrupt would be, so that every
    clean-up written for Ctrl-C (temporary files, a last checkpoint) runs for them too."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[Stopped] = []  # the signals that stopped this command


def _raise_stopped(signum, frame):
    _received.append(Stopped(signum))
    raise _received[-1]


@contextmanager
def stops_like_ctrl_c():
    """SIGTERM and SIGHUP raise Stopped in the main thread while the block runs (a command
    run on another thread, as a library call, leaves signals to its host)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, _raise_stopped) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_command(command: click.Command, argv: list[str] | None = None) -> None:
    """Run a click command: CommandError -> its message and exit_code (2 for bad input),
    usage errors -> 2, Ctrl-C -> 130, SIGTERM / SIGHUP -> 128 + the signal's number. The
    command finds its own command line, for records, in click's context object."""
    name = command.name
    args = sys.argv[1:] if argv is None else list(argv)
    typed = [name, *(portable(arg) if os.path.isabs(arg) else arg for arg in args)]  # for records
    try:
        with stops_like_ctrl_c():
            command.main(args=args, prog_name=name, standalone_mode=False, obj=typed)
    except (KeyboardInterrupt, click.Abort) as exc:
        stop = exc if isinstance(exc, Stopped) else exc.__cause__  # click wraps it in Abort
        if not isinstance(stop, Stopped) and _received:
            stop = _received[-1]  # a library (Ray's wait) raised a KeyboardInterrupt of its own for it
        if isinstance(stop, Stopped):
            click.echo(f"{name}: stopped by {stop}", err=True)
            sys.exit(128 + stop.signum)
        click.echo(f"{name}: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"{name}: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except CommandError as exc:
        click.echo(f"{name}: error: {exc}", err=True)
        sys.exit(exc.exit_code)
