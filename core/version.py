"""The installed vst version, recorded in every checkpoint, artifact and result file."""
from importlib.metadata import PackageNotFoundError, version


def vst_version() -> str:
    try:
        return version("vst")
    except PackageNotFoundError:
        return "unknown"
