"""Shared fixtures: the optional real-data folder and a smooth random texture."""
from pathlib import Path

import pytest

from media import make_texture

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """/work/shared/data (real clips, photos, Sintel flow); skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def texture():
    return make_texture
