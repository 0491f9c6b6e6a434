"""How every vst command ends: one line on stderr and an exit status, never a traceback
for a failure the user can act on."""
import os
import sys
from pathlib import Path

import click

from .errors import CommandError, InputError


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
    return width, height


def require_writable_folder(path: Path) -> None:
    """Refuse an output path whose folder is missing or read-only before any work starts."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise InputError(f"{folder}: output folder does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{folder}: output folder is not writable")


def run_command(command: click.Command, argv: list[str] | None = None) -> None:
    """Run a click command: CommandError -> its message and exit_code (2 for bad input),
    usage errors -> 2, Ctrl-C -> 130. The command finds its own command line, for records,
    in click's context object."""
    name = command.name
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        command.main(args=args, prog_name=name, standalone_mode=False, obj=[name, *args])
    except (KeyboardInterrupt, click.Abort):
        click.echo(f"{name}: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"{name}: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except CommandError as exc:
        click.echo(f"{name}: error: {exc}", err=True)
        sys.exit(exc.exit_code)
