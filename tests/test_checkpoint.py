import pytest
import torch

from vst.core.checkpoint import Checkpoint
from vst.core.errors import InputError
from vst.core.stylizer import Stylizer


def test_round_trip_keeps_weights_and_record(tmp_path):
    stylizer = Stylizer(128, "resize")
    path = tmp_path / "candy.pt"
    Checkpoint(stylizer, "candy", {"iters": 5}, {"iteration": 5}).save(path)
    loaded = Checkpoint.load(path)
    assert (loaded.stylizer.width, loaded.stylizer.upsample, loaded.style) == (128, "resize", "candy")
    assert loaded.config == {"iters": 5} and loaded.training == {"iteration": 5}
    x = torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        assert torch.equal(loaded.stylizer.eval()(x), stylizer.eval()(x))
    assert [p.name for p in tmp_path.iterdir()] == ["candy.pt"]  # no temp file left


def test_refuses_missing_foreign_and_mismatched_files(tmp_path):
    with pytest.raises(InputError, match="no such checkpoint"):
        Checkpoint.load(tmp_path / "absent.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        Checkpoint.load(tmp_path / "text.pt")
    torch.save(Stylizer().state_dict(), tmp_path / "bare.pt")
    with pytest.raises(InputError, match="not a vst stylizer checkpoint"):
        Checkpoint.load(tmp_path / "bare.pt")
    Checkpoint(Stylizer(128), "x").save(tmp_path / "res128.pt")
    record = torch.load(tmp_path / "res128.pt", weights_only=True)
    record["arch"]["width"] = 48
    torch.save(record, tmp_path / "lying.pt")
    with pytest.raises(InputError, match="do not fit the recorded architecture"):
        Checkpoint.load(tmp_path / "lying.pt")
