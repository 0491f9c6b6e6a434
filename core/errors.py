class CommandError(Exception):
    """A failure that command-line entry points report as one line on stderr and a
    non-zero exit status (`exit_code`), without a traceback: 1 for a failed check."""
    exit_code = 1


class InputError(CommandError):
    """Bad user input (missing file, empty folder, wrong checkpoint...): exit status 2."""
    exit_code = 2
