"""What the two benchmarks share: the command line and where the figures go."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [100_000, 1_000_000, 10_000_000]


def parse_args(description: str, figures: str) -> argparse.Namespace:
    """--sizes (transactions per synthetic log) and --out (default bench-results/<figures>)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--out", default=str(ROOT / "bench-results" / figures))
    return parser.parse_args()


def write_figures(payload: object, out: str) -> None:
    """The figures as indented JSON, and where they went."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"figures written to {path}")
