"""The clone stays light: what git tracks totals at most 30 MB, no training checkpoints or
logs are tracked (they live in runs/, ignored), and every gallery picture fits a page."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_TREE_BYTES = 30_000_000
MAX_PICTURE_BYTES = 400_000


@pytest.fixture(scope="module")
def tracked() -> list[Path]:
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listing.decode().split("\0") if name]


def test_the_tracked_tree_is_light(tracked):
    total = sum(path.stat().st_size for path in tracked if path.is_file())
    assert total <= MAX_TREE_BYTES, f"git tracks {total / 1e6:.1f} MB"


def test_no_finished_training_runs_are_tracked(tracked):
    # finished runs live in docs/ and the model cards; one run not yet finished may wait in
    # training/in_progress/ (its checkpoint and log) for training/quick.sh to continue it
    runs = [path.relative_to(ROOT) for path in tracked if path.suffix in (".pt", ".csv", ".done")
            and path.parent.name not in ("styles", "in_progress")]
    assert runs == []
    waiting = [path for path in tracked if path.parent.name == "in_progress"]
    assert len([path for path in waiting if path.suffix == ".pt"]) <= 1
    assert {path.suffix for path in waiting} <= {".pt", ".csv"}


def test_gallery_pictures_fit_a_page(tracked):
    pictures = [path for path in tracked if "gallery" in path.parts and path.suffix in (".jpg", ".png")]
    assert pictures
    assert [p.name for p in pictures if p.stat().st_size > MAX_PICTURE_BYTES] == []
