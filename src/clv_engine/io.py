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
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from .errors import UserError

__all__ = [
    "OutputError",
    "atomic_path",
    "neutralise_cells",
    "read_csv_for_people",
    "read_json",
    "restore_cells",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_text",
]


#: A frame, in memory or as a query.
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


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


def _write(target: str | Path, writer: Callable[[Path], object]) -> None:
    with atomic_path(target) as tmp:
        writer(tmp)


#: Rows per Parquet row group. Set, not left to polars: by default a row group ends where a
#: chunk of the frame in memory ends, which depends on how the frame was built (a sort's
#: partitions, a batched read), so equal frames could give different bytes.
ROW_GROUP_ROWS = 512 * 512


def write_parquet(df: pl.DataFrame, target: str | Path) -> None:
    """Parquet without statistics timestamps; same frame, same bytes."""
    _write(
        target,
        lambda p: df.write_parquet(p, compression="zstd", statistics=True, row_group_size=ROW_GROUP_ROWS),
    )


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# injection"); a leading quote makes it text. Values that already start with a quote are
# quoted too, so that stripping one leading quote always gives the original value back.
_FORMULA_OR_QUOTE = r"^[=+\-@\t\r']"


def neutralise_cells(df: Frame) -> Frame:
    """Text cells starting with ``= + - @``, tab, CR or ``'`` get a leading ``'``.

    Only text columns change (a negative number stays a number). :func:`restore_cells`
    undoes it exactly: a program reading such a CSV strips one leading ``'`` from every
    text cell that starts with one.
    """
    text = [c for c, t in _schema(df).items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_OR_QUOTE))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def restore_cells(df: pl.DataFrame) -> pl.DataFrame:
    """The inverse of :func:`neutralise_cells` (for a CSV read back with text columns)."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.starts_with("'")).then(pl.col(c).str.slice(1)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def read_csv_for_people(source: str | Path, **options: Any) -> pl.DataFrame:
    """A CSV written with ``write_csv(..., for_people=True)``, its original values restored."""
    return restore_cells(pl.read_csv(source, **options))


def _steady_digits(column: str, for_people: bool) -> pl.Expr:
    """``column`` to :data:`REPORT_DIGITS`, then (statistics) to :data:`STATISTIC_DIGITS`:
    a half at the 8th digit is decided on the value to 10 digits, so that a mean of 16 amounts
    in cents (493.645375, exactly a half) is written the same whether its float lies just
    below or just above it."""
    expr = pl.col(column).round_sig_figs(REPORT_DIGITS)
    return expr if for_people else expr.round_sig_figs(STATISTIC_DIGITS)


def write_csv(df: pl.DataFrame | pl.LazyFrame, target: str | Path, *, for_people: bool = False) -> None:
    """CSV with a header, ISO dates and ``.`` decimals; floats to :data:`REPORT_DIGITS`
    significant digits in a file for people, else :data:`STATISTIC_DIGITS`.

    Multi-threaded aggregations can change the last bits of a float sum from run to run;
    these digits are far above that noise and far below what a reader needs, so the same
    results always give the same bytes. ``for_people``: a file a person opens in
    a spreadsheet; its text cells are made safe with :func:`neutralise_cells`, and it starts
    with a UTF-8 byte-order mark, without which Excel reads UTF-8 as a legacy code page and
    garbles non-ASCII ids and names (polars and pandas skip the mark; Python's csv module
    needs ``encoding="utf-8-sig"``). A LazyFrame is written as it is computed (a sink), in the
    same bytes.
    """
    options: dict[str, Any] = {"date_format": "%Y-%m-%d", "float_precision": None, "include_bom": for_people}
    if isinstance(df, pl.LazyFrame):
        lazy = _for_csv(df, for_people)
        _write(target, lambda p: lazy.sink_csv(p, **options))
    else:
        eager = _for_csv(df, for_people)
        _write(target, lambda p: eager.write_csv(p, **options))


def _for_csv(df: Frame, for_people: bool) -> Frame:
    """Floats to steady digits (:func:`_steady_digits`); text made safe for people."""
    floats = [c for c, t in _schema(df).items() if t.is_float()]
    df = df.with_columns([_steady_digits(c, for_people) for c in floats]) if floats else df
    return neutralise_cells(df) if for_people else df


def _schema(df: pl.DataFrame | pl.LazyFrame) -> pl.Schema:
    return df.collect_schema() if isinstance(df, pl.LazyFrame) else df.schema


def read_json(source: str | Path) -> Any:
    """A JSON file written by :func:`write_json` (UTF-8)."""
    with open(source, encoding="utf-8") as fh:
        return json.load(fh)


#: Significant digits of a float in a JSON report or a CSV for people (money to the cent up
#: to 100 million), and in a CSV of statistics (plots, explanations, drift: far more than a
#: chart or a reader resolves). A last-bit difference upstream (a value moved by 1e-12 of
#: itself: another machine's rounding, an input scaled by 1 + 1e-12) then changes a written
#: number in about 1 of 1,000 values at 10 digits and 1 of 100,000 at 8, instead of 1 in 10
#: at the 12 digits written before. Parquet files keep every bit.
REPORT_DIGITS = 10
STATISTIC_DIGITS = 8


def _steady(obj: Any) -> Any:
    if isinstance(obj, float):
        return float(f"{obj:.{REPORT_DIGITS}g}") if math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: _steady(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_steady(v) for v in obj]
    return obj


def write_json(obj: Any, target: str | Path) -> None:
    """Pretty JSON with sorted keys (stable diffs for ``dvc metrics diff``), floats to
    :data:`REPORT_DIGITS` significant digits."""
    text = json.dumps(_steady(obj), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    write_text(text, target)


def write_text(text: str, target: str | Path) -> None:
    _write(target, lambda p: p.write_text(text, encoding="utf-8"))
