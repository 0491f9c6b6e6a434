"""Installed versions: vst's, recorded in every checkpoint, artifact and result file, and
those of the libraries a result names."""
from importlib.metadata import PackageNotFoundError, version


def installed_version(distribution: str) -> str | None:
    """The version of an installed distribution; None where it is not installed."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def vst_version() -> str:
    return installed_version("vst") or "unknown"
