"""Run a vst command's main() in-process as its console script would."""


def invoke(main, capsys, argv) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of main(argv); earlier captured output is dropped."""
    capsys.readouterr()
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
