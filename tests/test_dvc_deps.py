"""dvc.yaml's code deps follow the imports: DVC reruns a stage when code it runs changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_stage_depends_on_the_code_it_runs():
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "sync_deps.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
