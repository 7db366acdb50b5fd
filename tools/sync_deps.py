"""Make every dvc.yaml stage depend on exactly the project code its script runs.

    .venv/bin/python tools/sync_deps.py          # rewrite dvc.yaml
    .venv/bin/python tools/sync_deps.py --check  # exit 1 if a stage's code deps differ

A stage's code deps are its script, the transitive closure of the package modules it
imports (a package's ``__init__`` included) and the launcher ``stages/py`` that runs it; its
data deps are kept as they are. DVC reruns
a stage only when a listed dep changes, so this is what keeps ``dvc repro`` from serving
outputs of code that has since changed (tests/test_params.py runs the check).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "clv_engine"


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != PACKAGE.name:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path) -> set[Path]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and path.is_relative_to(PACKAGE):
            module = f"{PACKAGE.name}.{node.module}" if node.module else PACKAGE.name
            names |= {module, *(f"{module}.{a.name}" for a in node.names)}
    files = {f for f in map(_module_file, names) if f is not None}
    return files | {PACKAGE / "__init__.py"} if files else files


def code_deps(script: Path) -> list[str]:
    """The script and every package module it runs, as paths relative to the root, sorted."""
    seen: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(_imports(path))
    return sorted(str(p.relative_to(ROOT)) for p in seen)


def synced(pipeline: dict) -> dict:
    for stage in pipeline["stages"].values():
        match = re.search(r"(stages/\S+\.py)", stage["cmd"])
        if not match:
            continue
        data = [d for d in stage.get("deps", []) if not str(d).startswith(("src/", "stages/"))]
        # stages/py runs the script and sets how numpy and OpenBLAS round: a dep like the code.
        launcher = ["stages/py"] if stage["cmd"].startswith("sh stages/py ") else []
        stage["deps"] = code_deps(ROOT / match.group(1)) + launcher + data
    return pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    path = ROOT / "dvc.yaml"
    current = yaml.safe_load(path.read_text())
    wanted = synced(yaml.safe_load(path.read_text()))
    if args.check:
        stale = [n for n in current["stages"] if current["stages"][n]["deps"] != wanted["stages"][n]["deps"]]
        if stale:
            sys.exit(
                f"dvc.yaml: code deps differ from the imports for {', '.join(stale)}: "
                "run .venv/bin/python tools/sync_deps.py"
            )
        return
    path.write_text(yaml.safe_dump(wanted, sort_keys=False, width=100))


if __name__ == "__main__":
    main()
