"""What produced a result: library versions and data fingerprints (never a timestamp)."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

__all__ = ["fingerprint", "versions"]

_PACKAGES = (
    "clv-engine",
    "polars",
    "numpy",
    "scipy",
    "catboost",
    "scikit-learn",
    "shap",
    "pandas",
    "pyarrow",
)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def fingerprint(path: str | Path) -> str:
    """sha256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
