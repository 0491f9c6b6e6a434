class InputError(Exception):
    """Bad user input (missing file, empty folder, wrong checkpoint...).

    Command-line entry points print the message as one line and exit with status 2.
    """
