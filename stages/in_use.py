"""DVC stage in_use: the model that scores this run, the champion when one was promoted."""

import argparse
import shutil
from pathlib import Path

import joblib

from clv_engine.governance import model_in_use
from clv_engine.io import atomic_path, write_json
from clv_engine.provenance import fingerprint
from clv_engine.stage import run_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--champion", required=True, help="the champion's folder (models/champion)")
    parser.add_argument("--bundle", required=True, help="the latest bundle (the train stage's)")
    parser.add_argument("--training", required=True, help="the latest model's training rows")
    parser.add_argument("--metadata", required=True, help="the latest model's model_metadata.json")
    parser.add_argument("--out-bundle", required=True, help="the bundle in use (a copy)")
    parser.add_argument("--out-training", required=True, help="its training rows (a copy)")
    parser.add_argument("--out-metadata", required=True, help="its model_metadata.json (a copy)")
    parser.add_argument("--report", required=True, help="reports/model_in_use.json")


def main(args: argparse.Namespace) -> str:
    chosen = model_in_use(Path(args.champion), Path(args.bundle), Path(args.training), Path(args.metadata))
    copies = (
        (chosen.bundle, args.out_bundle),
        (chosen.training, args.out_training),
        (chosen.metadata, args.out_metadata),
    )
    for source, target in copies:
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    latest = _describe(Path(args.bundle))
    champion = _describe(chosen.bundle) if chosen.scored_with == "champion" else None
    write_json({"scored_with": chosen.scored_with, "champion": champion, "latest": latest}, args.report)
    used = champion or latest
    return f"scoring with the {chosen.scored_with} model (trained as of {used['trained_as_of']})"


def _describe(bundle: Path) -> dict:
    content = joblib.load(bundle)
    return {
        "sha256": fingerprint(bundle),
        "trained_as_of": content["as_of"],
        "horizon_months": content["horizon_months"],
        # model.update: fitted from scratch, or the champion's trees continued (train stage).
        "update": content.get("update", "full: fitted from scratch"),
    }


if __name__ == "__main__":
    run_stage("in_use", add_arguments, main)
