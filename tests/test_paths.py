"""vst.core.paths: what records hold of a path."""
from vst.core.paths import portable, portable_words


def test_portable_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "..")
    assert portable(tmp_path / "a.mp4") == f"{tmp_path.name}/a.mp4"          # inside: relative
    assert portable("/elsewhere/far/away/b.pt") == "b.pt"                     # a machine's own: a name
    assert portable("clips/c.mp4") == "clips/c.mp4"
    assert portable_words("vst-eval /elsewhere/x/y/c.mp4 --json e.json") == "vst-eval c.mp4 --json e.json"
    assert portable_words("personal / research use only") == "personal / research use only"
