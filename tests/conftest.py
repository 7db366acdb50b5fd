from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_LOG = ROOT / "data" / "raw" / "cdnow_master.csv"


@pytest.fixture(scope="session")
def cdnow_sample_path() -> Path:
    """The FHL 1/10 sample (2,357 customers), shipped with the tests (tests/data/)."""
    return ROOT / "tests" / "data" / "cdnow_sample.csv"
