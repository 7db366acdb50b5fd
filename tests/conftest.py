from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "cdnow"
BUNDLED_LOG = ROOT / "data" / "raw" / "cdnow_master.csv"


@pytest.fixture(scope="session")
def cdnow_sample_path() -> Path:
    """The FHL 1/10 sample (2,357 customers); shipped beside the project in shared/."""
    path = SHARED_DATA / "cdnow_sample.csv"
    if not path.exists():
        pytest.skip(f"{path} not found (the shared data folder sits beside the project)")
    return path
