"""Atomic, deterministic file output for the stages.

Every output is written to a temporary file in the destination folder and renamed over
the target only when complete, so a stage killed mid-write leaves the previous file or
none, never a truncated one. JSON is written with sorted keys and a trailing newline so
that two runs give the same bytes. Disk-full and permission errors are re-raised as
:class:`OutputError` naming the path.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

from .errors import UserError

__all__ = [
    "OutputError",
    "atomic_path",
    "read_json",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_text",
]


class OutputError(UserError, OSError):
    """An output could not be written (disk full, permission, missing folder...)."""


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A writer killed by SIGKILL cannot clean up: remove what it left for this target.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write(target: str | Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(target) as tmp:
        writer(tmp)


def write_parquet(df: pl.DataFrame, target: str | Path) -> None:
    """Parquet without statistics timestamps; same frame, same bytes."""
    _write(target, lambda p: df.write_parquet(p, compression="zstd", statistics=True))


def write_csv(df: pl.DataFrame, target: str | Path) -> None:
    """CSV with a header, ISO dates and ``.`` decimals; floats to 12 significant digits.

    Multi-threaded aggregations can change the last bits of a float sum from run to run;
    12 significant digits are far above that noise and far below what a reader needs, so
    the same results always give the same bytes.
    """
    floats = [c for c, t in df.schema.items() if t.is_float()]
    df = df.with_columns([pl.col(c).round_sig_figs(12) for c in floats]) if floats else df
    _write(target, lambda p: df.write_csv(p, date_format="%Y-%m-%d", float_precision=None))


def read_json(source: str | Path) -> Any:
    """A JSON file written by :func:`write_json` (UTF-8)."""
    with open(source, encoding="utf-8") as fh:
        return json.load(fh)


def write_json(obj: Any, target: str | Path) -> None:
    """Pretty JSON with sorted keys (stable diffs for ``dvc metrics diff``)."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    write_text(text, target)


def write_text(text: str, target: str | Path) -> None:
    _write(target, lambda p: p.write_text(text, encoding="utf-8"))
