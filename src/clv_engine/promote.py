"""``make promote``: the current challenger becomes the champion. A person's act, never a stage's.

Run from the project root after ``dvc repro``. It checks that the pipeline is up to date
(so the model promoted is the one reports/governance.json describes), copies the train
stage's bundle and its training rows to ``models/champion/``, tracks them with ``dvc add``
(its model_metadata.json beside them, for git),
writes the card ``models/champion_card.json`` (what was promoted, its data, params and
backtest, who promoted it and when) and prints the old and new sha256 and the metrics.
The next ``dvc repro`` scores with the new champion; commit ``models/`` to record it.
The card is the only place with a wall-clock time, and no stage reads it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import joblib

from .errors import UserError
from .governance import BUNDLE, METADATA, TRAINING
from .io import atomic_path, read_json, write_json
from .provenance import fingerprint

__all__ = ["champion_card", "main", "promote"]

CHAMPION = Path("models/champion")
CARD = Path("models/champion_card.json")
LATEST_BUNDLE = Path("data/model/model_bundle.joblib")
LATEST_TRAINING = Path("data/features/training.parquet")
LATEST_METADATA = Path("reports/model_metadata.json")


class PromoteError(UserError, RuntimeError):
    """The challenger cannot be promoted yet (the message says what to do)."""


def _dvc(*args: str) -> subprocess.CompletedProcess[str]:
    dvc = Path(sys.executable).parent / "dvc"
    command = [str(dvc)] if dvc.exists() else [sys.executable, "-m", "dvc"]
    env = os.environ | {"DVC_NO_ANALYTICS": "1"}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env)


def champion_card(
    bundle_sha: str,
    bundle: dict[str, Any],
    metadata: dict[str, Any],
    metrics: dict[str, Any],
    governance: dict[str, Any],
    previous_sha: str | None,
    promoted_by: str,
    promoted_at: str,
) -> dict[str, Any]:
    """The champion's card: everything a reviewer asks about a promoted model."""
    backtest = None
    if metrics.get("backtest"):
        backtest = {
            "newest_origin": metrics["backtest"],
            "model": {k: metrics["model"][k] for k in ("normalized_gini", "mae", "bias")},
            "btyd": {k: metrics["btyd"][k] for k in ("normalized_gini", "mae", "bias")},
            "origins": metrics["origins"],
        }
    return {
        "sha256": bundle_sha,
        "trained_as_of": bundle["as_of"],
        "lookback_months": bundle["lookback_months"],
        "horizon_months": bundle["horizon_months"],
        "training_data": metadata["training_data"],
        "params": metadata["params"],
        "backtest": backtest,
        "governance_at_promotion": {
            "promote_recommended": governance["promote_recommended"],
            "reasons": governance["reasons"],
        },
        "previous_champion_sha256": previous_sha,
        "promoted_by": promoted_by,
        "promoted_at": promoted_at,
    }


def _who() -> str:
    name = os.environ.get("CLV_PROMOTED_BY")
    if not name:
        git = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True)
        name = git.stdout.strip() if git.returncode == 0 else ""
    return name or getpass.getuser()


def promote(say: Callable[[str], object] = print) -> dict[str, Any]:
    """Promote the challenger in the current directory; returns the card written."""
    for path in (LATEST_BUNDLE, LATEST_TRAINING, LATEST_METADATA, Path("reports/governance.json")):
        if not path.is_file():
            raise PromoteError(f"{path} not found: run `dvc repro` first (from the project root)")
    status = _dvc("status", "--json", "govern", "--with-deps")
    if status.returncode != 0:
        raise PromoteError(f"dvc status failed: {status.stderr.strip() or status.stdout.strip()}")
    if json.loads(status.stdout or "{}"):
        raise PromoteError(
            "the pipeline is not up to date (dvc status lists changes): run `dvc repro` first, so "
            "that the model you promote is the one reports/governance.json compares"
        )
    governance = read_json("reports/governance.json")
    new_sha = fingerprint(LATEST_BUNDLE)
    if governance["challenger"]["sha256"] != new_sha:
        raise PromoteError(
            f"{LATEST_BUNDLE} (sha256 {new_sha[:12]}) is not the challenger reports/governance.json "
            "describes: run `dvc repro` first"
        )
    old_bundle = CHAMPION / BUNDLE
    old_sha = fingerprint(old_bundle) if old_bundle.is_file() else None
    if old_sha == new_sha:
        say(f"the challenger is already the champion (sha256 {new_sha}): nothing to do")
        card: dict[str, Any] = read_json(CARD)
        return card
    CHAMPION.mkdir(parents=True, exist_ok=True)
    for source, name in ((LATEST_BUNDLE, BUNDLE), (LATEST_TRAINING, TRAINING), (LATEST_METADATA, METADATA)):
        with atomic_path(CHAMPION / name) as tmp:
            shutil.copyfile(source, tmp)
    added = _dvc("add", "-q", str(CHAMPION / BUNDLE), str(CHAMPION / TRAINING))
    if added.returncode != 0:
        raise PromoteError(f"dvc add {CHAMPION} failed: {added.stderr.strip() or added.stdout.strip()}")
    metrics = read_json("reports/metrics.json")
    card = champion_card(
        new_sha,
        joblib.load(LATEST_BUNDLE),
        read_json(LATEST_METADATA),
        metrics,
        governance,
        old_sha,
        _who(),
        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
    write_json(card, CARD)
    say(f"champion was: {old_sha or 'none (the latest model scored)'}")
    say(f"champion now: {new_sha} (trained as of {card['trained_as_of']}, by {card['promoted_by']})")
    if card["backtest"]:
        m, o = card["backtest"]["model"], card["backtest"]["origins"]
        say(
            f"its backtest: normalized Gini {m['normalized_gini']:.3f}, MAE {m['mae']:.2f}, bias "
            f"{m['bias']:+.1%} at the newest origin; mean |bias| {o['model']['mean_abs_bias']:.1%} over "
            f"{o['count']} origins"
        )
    for reason in governance["reasons"]:
        say(f"governance said: {reason}")
    say(
        f"next: `dvc repro` scores with it; commit {CHAMPION}/*.dvc, {CHAMPION}/{METADATA} and {CARD} "
        "(and `dvc push` to share it)"
    )
    return card


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(prog="make promote", description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        promote(lambda message: print(f"[promote] {message}", flush=True))
    except UserError as exc:
        print(f"[promote] error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
