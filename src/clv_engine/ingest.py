"""Ingest: a raw transaction log in, canonical transactions + quarantine + report out.

Reading (:func:`read_log`) and validating (:func:`validate_log`) are separate so that
validation is a pure function of a frame, tested without files.

Canonical transactions (one row per accepted source row)
    customer_id  str    the source value, trimmed; never re-typed ("00001" stays "00001")
    order_date   date   calendar date of the order in ``ingest.timezone`` (see below)
    revenue      f64    finite; negative = return or cancellation, zero allowed (the revenue
                        column, or quantity x unit_price when ``unit_price`` is mapped)
    quantity     f64    null when no quantity column is mapped
    order_id     str    null when no order-id column is mapped
    margin       f64    profit per line, finite, may be negative; only when
                        ``ingest.columns.margin`` is mapped (an empty cell: missing_margin,
                        a non-number: invalid_margin)

Dates. ISO 8601 dates (``1997-01-01``) and datetimes (``1997-01-01T10:00:00``, space or
``T``, optional fractional seconds) are read as they are. A datetime with a UTC offset
(``+05:00``, ``-0300``, ``Z``) is converted to ``ingest.timezone`` before its calendar date
is taken; a datetime without an offset is taken as already in that zone. Any other
format needs ``ingest.date_format`` (a strftime pattern such as ``%d/%m/%Y``).

Row-level problems never stop the run and are never silent: each rejected row goes to
the quarantine with its ``row_number`` (1-based position among the data rows, header not
counted: in a spreadsheet it is on line row_number + 1), one reason code (the first that
applies, in the order of :data:`REASONS`) and its original values as text.
``rows_read == rows_accepted + rows_quarantined`` always. Rows without a customer id are
guest checkouts, not defects: they stay in the quarantine (``missing_customer_id``), are
counted with their revenue in the report, and do not count towards
``ingest.max_reject_share`` (``ingest.max_guest_share`` bounds them).

Files may be gzip-compressed (``.csv.gz``); Parquet with any compression reads directly.

Memory. :func:`ingest` reads the file in batches of :data:`BATCH_ROWS` rows (a streaming
scan) and validates each batch alone; each batch's accepted and rejected rows go to a
spill directory, and only an 8-byte hash per row (for the duplicate check) stays in memory
while reading. The accepted rows are read back once for the final sort; the rejected ones
are streamed into the quarantine CSV by the stage (a log with 30% guest checkouts, 10M
rows: 4.8 GB read whole, 2.8 GB with the quarantine in memory, 2.1 GB streamed). So the
peak is the final sort, not the file as text: on a 60M-row synthetic log (3.1 GB of CSV)
11.0 GB, against 18.3 GB when the batches' accepted rows stayed in memory (10M rows: 3.4 GB
read whole, 2.4 GB now). :func:`validate_batches` gives the same result
as :func:`validate_log` on the whole file (a test holds it to that on every batch size).

File-level problems raise :class:`IngestError` naming the file and the fix.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .errors import UserError
from .params import IngestParams
from .scalars import as_date

__all__ = [
    "BATCH_ROWS",
    "REASONS",
    "IngestError",
    "IngestResult",
    "LogSource",
    "ingest",
    "open_log",
    "read_log",
    "validate_batches",
    "validate_log",
]

#: Quarantine reason codes, in the order they are checked.
REASONS: tuple[str, ...] = (
    "extra_fields",
    "missing_customer_id",
    "missing_order_date",
    "unparseable_order_date",
    "missing_revenue",
    "non_numeric_revenue",
    "non_finite_revenue",
    "invalid_quantity",
    "missing_margin",
    "invalid_margin",
    "duplicate_row",
)

#: The row number column: "row_number" in the quarantine (and in a frame given to
#: validate_log); inside, a name no export uses, so that a log may have its own row_number.
ROW_NUMBER = "row_number"
_ROW = "__row_number__"
_EXTRA = "__extra_field_"  # spare columns that catch fields beyond the header's count
_N_EXTRA = 4
_DELIMITERS = (",", ";", "\t", "|")
#: Rows validated at a time: while reading, ingest's memory is one batch and an 8-byte
#: hash per row (the rows themselves wait in the spill directory), not the whole file as text.
BATCH_ROWS = 1_000_000
_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
_SUFFIX_FORMAT = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


class IngestError(UserError, ValueError):
    """The file cannot be ingested as a whole; the message names the file and the fix."""


@dataclass(frozen=True)
class IngestResult:
    """Accepted rows, rejected rows and the report. The rejected rows are held as a query
    (``quarantine_rows``): in memory, or, when :func:`ingest` was given a spill directory, read
    from it only when they are written or looked at."""

    transactions: pl.DataFrame
    quarantine_rows: pl.LazyFrame
    report: dict[str, Any]

    @property
    def quarantine(self) -> pl.DataFrame:
        """The rejected rows: row_number, reason, then the original values as text."""
        return self.quarantine_rows.collect()


def ingest(params: IngestParams, batch_rows: int = BATCH_ROWS, spill: Path | None = None) -> IngestResult:
    """Read ``params.path`` in batches of ``batch_rows`` rows and validate it (see the module
    docstring): the result of :func:`validate_log` on the whole file.

    ``spill``: a directory for the rows waiting to be sorted and written; the result's
    quarantine is read from it, so it must outlive the result's use (the stage writes the
    quarantine from there). Without one, a temporary directory is used and the quarantine
    is read into memory before it goes.
    """
    log = open_log(params)
    own = spill is None
    with tempfile.TemporaryDirectory(prefix="clv-ingest-") if own else nullcontext(str(spill)) as where:
        result = validate_batches(log.batches(batch_rows), params, params.path, log.rows, Path(where))
        if own:  # the directory goes with this call: the quarantine comes into memory first
            result = dataclasses.replace(result, quarantine_rows=result.quarantine.lazy())
    result.report.update(log.info)
    return result


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class LogSource:
    """A log opened for reading: every CSV field as text (Parquet: its own types) plus
    ``row_number`` (1-based), read lazily in batches.
    """

    path: Path
    frame: pl.LazyFrame
    info: dict[str, Any]
    empty: str  # the message when the file has no data rows

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        """The rows in file order, ``rows`` at a time; raises :class:`IngestError` when there are none."""
        n = 0
        with _reading(self):
            for batch in self.frame.collect_batches(chunk_size=rows, maintain_order=True):
                if batch.height:
                    n += batch.height
                    yield batch
        if n == 0:
            raise IngestError(self.empty)

    def collect(self) -> pl.DataFrame:
        """The whole file as one frame."""
        return pl.concat(list(self.batches()))

    def rows(self, row_numbers: pl.Series) -> pl.DataFrame:
        """The rows with these ``row_number`` values (read again), in file order."""
        with _reading(self):
            return self.frame.filter(pl.col(_ROW).is_in(row_numbers.implode())).collect(engine="streaming")


@contextmanager
def _reading(source: LogSource) -> Iterator[None]:
    """Polars' reading errors as :class:`IngestError` naming the file and the fix."""
    try:
        yield
    except pl.exceptions.NoDataError:
        raise IngestError(source.empty) from None
    except (pl.exceptions.ComputeError, OSError) as exc:
        path = source.path
        if source.info["format"] == "parquet":
            raise IngestError(
                f"{path}: not a readable Parquet file ({exc}); check the file or set ingest.format"
            ) from exc
        if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
            raise IngestError(
                f"{path}: the file is not UTF-8 text; re-save it as UTF-8 or set "
                "ingest.encoding: utf8-lossy to replace the bad bytes"
            ) from exc
        raise IngestError(
            f"{path}: cannot parse as CSV with delimiter {source.info['delimiter']!r}: {exc}"
        ) from exc


def read_log(params: IngestParams) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read the whole log as it is (see :class:`LogSource`); returns the frame and facts about
    the file for the report (format, delimiter).
    """
    source = open_log(params)
    return source.collect(), source.info


def open_log(params: IngestParams) -> LogSource:
    """Check the file and open it for reading in batches (nothing is read but the header)."""
    path = Path(params.path)
    if not path.exists():
        raise IngestError(f"{path}: file not found; set ingest.path in params.yaml to the log to read")
    if not path.is_file():
        raise IngestError(f"{path}: is not a file; set ingest.path to a CSV or Parquet file")
    fmt: str = params.format
    gzipped = path.suffix.lower() == ".gz"
    if fmt == "auto":
        suffix = Path(path.stem).suffix if gzipped else path.suffix
        fmt = _SUFFIX_FORMAT.get(suffix.lower(), "")
        if suffix.lower() in _SPREADSHEET_SUFFIXES:
            raise IngestError(
                f"{path}: a spreadsheet workbook, which the engine does not read: save the sheet as "
                "CSV (in Excel: File > Save As > CSV UTF-8) and set ingest.path to that file"
            )
        if not fmt:
            raise IngestError(
                f"{path}: cannot tell the format from the extension {''.join(path.suffixes)!r}; "
                "set ingest.format to csv or parquet"
            )
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: the file is empty; point ingest.path at the transaction log")
    if fmt == "parquet":
        return _open_parquet(path)
    return _open_csv(path, params)


def _open_parquet(path: Path) -> LogSource:
    frame = pl.scan_parquet(path, row_index_name=_ROW, row_index_offset=1)  # lazy: reads nothing
    source = LogSource(path, frame, {"format": "parquet"}, f"{path}: the file has columns but no rows")
    with _reading(source):
        frame.collect_schema()
    return source


def _open_csv(path: Path, params: IngestParams) -> LogSource:
    header_line = _first_line(path, params.encoding)
    gzipped = path.suffix.lower() == ".gz"
    if not header_line.strip():
        raise IngestError(f"{path}: the first line is blank; the file must start with a header row")
    delimiter = params.delimiter if params.delimiter != "auto" else _sniff_delimiter(header_line)
    header = [name.strip() for name in next(csv.reader([header_line], delimiter=delimiter))]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise IngestError(f"{path}: the header repeats the column name(s) {repeated}; rename them")
    extras = [f"{_EXTRA}{i}" for i in range(_N_EXTRA)]
    frame = pl.scan_csv(
        path,
        has_header=False,
        skip_rows=1,
        separator=delimiter,
        schema={name: pl.String for name in header + extras},
        truncate_ragged_lines=True,
        missing_columns="insert",
        encoding=params.encoding,
        quote_char='"',
        row_index_name=_ROW,
        row_index_offset=1,
    )
    info = {"format": "csv.gz" if gzipped else "csv", "delimiter": delimiter}
    return LogSource(path, frame, info, f"{path}: the file has a header but no data rows")


def _first_line(path: Path, encoding: str) -> str:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.readline()
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path}: not a readable gzip file ({exc}); check the file") from exc
    try:
        return raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        if encoding == "utf8-lossy":
            return raw.decode("utf-8-sig", errors="replace").rstrip("\r\n")
        raise IngestError(
            f"{path}: the header is not UTF-8 text; re-save the file as UTF-8 or set "
            "ingest.encoding: utf8-lossy"
        ) from exc


def _sniff_delimiter(header_line: str) -> str:
    """The candidate that splits the header into the most fields (comma on a tie)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d))) for d in _DELIMITERS}
    return max(_DELIMITERS, key=lambda d: (counts[d], d == ","))


# --------------------------------------------------------------------------- validating


def validate_log(raw: pl.DataFrame, params: IngestParams, source: str = "<frame>") -> IngestResult:
    """Split a raw log into canonical transactions and quarantined rows (pure).

    ``raw`` holds the source columns (text, or native Parquet types) and ``row_number``
    (1-based; numbered in order when the frame has none; :func:`read_log`'s frame has its
    own under another name, so that a log may have a row_number column of its own).
    """

    if _ROW not in raw.columns:  # read_log's frame has it
        numbered = ROW_NUMBER in raw.columns
        raw = raw.rename({ROW_NUMBER: _ROW}) if numbered else raw.with_row_index(_ROW, offset=1)

    def reread(row_numbers: pl.Series) -> pl.DataFrame:
        return raw.filter(pl.col(_ROW).is_in(row_numbers.implode()))

    return validate_batches([raw], params, source, reread)


@dataclass(frozen=True)
class _Plan:
    """What every batch is checked against: the column mapping and the file's columns."""

    mapping: dict[str, str]
    left_out: dict[str, str]
    source_cols: list[str]
    extras: list[str]


def validate_batches(
    batches: Iterable[pl.DataFrame],
    params: IngestParams,
    source: str,
    reread: Callable[[pl.Series], pl.DataFrame],
    spill: Path | None = None,
) -> IngestResult:
    """:func:`validate_log` on a log given in batches, in file order: the same result as on
    the whole log at once, holding one batch at a time.

    Each batch is parsed and checked alone. Whether a row repeats an earlier row (in any
    batch) is decided at the end: every row's hash is kept, and only the rows whose hash
    occurs twice are read again (``reread``: the rows with the given row numbers, in file
    order) and compared field by field. With ``spill`` (a directory), each batch's accepted
    and rejected rows are written there (Arrow IPC): the accepted rows are read back once,
    for the final sort, and the rejected ones when they are written or looked at. Memory
    then holds one batch and the hashes while reading, and the accepted rows (once) while
    sorting.
    """
    plan: _Plan | None = None
    kept: list[pl.LazyFrame] = []
    quarantined: list[pl.LazyFrame] = []
    hashes: list[pl.DataFrame] = []
    guest_revenue: list[pl.Series] = []
    rows_read = 0
    for raw in batches:
        plan = plan or _plan(raw, params, source)
        parsed = _parse(raw, plan, params)
        rows_read += raw.height
        bad = parsed.filter(pl.col("reason").is_not_null()).select(_ROW, "reason")
        rejected = _quarantine_frame(raw, bad, plan.source_cols, plan.extras)
        quarantined.append(_spilled(rejected, spill, "quarantine", len(quarantined)))
        good = parsed.filter(pl.col("reason").is_null()).select(_ROW, *_keep(plan))
        kept.append(_spilled(good, spill, "accepted", len(kept)))
        hashes.append(raw.select(pl.col(_ROW), _row_hash(plan.source_cols).alias("_hash")))
        guests = parsed.filter(pl.col("reason") == "missing_customer_id")["revenue"]
        # A guest row's revenue counts when it is a finite number (inf would make the share NaN).
        guest_revenue.append(guests.filter(guests.is_finite()))
        del raw, parsed, good
    if plan is None:
        raise IngestError(f"{source}: no rows to validate")
    repeats = _repeated_rows(pl.concat(hashes), plan.source_cols, reread)
    hashes.clear()
    accepted = pl.concat(kept)
    is_repeat = pl.col(_ROW).is_in(repeats[_ROW].implode())
    repeated = accepted.filter(is_repeat).select(_ROW).collect()
    # Each batch's rejected rows are in file order, and so are the batches.
    quarantine = pl.concat(quarantined)
    repeats_kept = 0
    if params.duplicates == "keep":
        repeats_kept = repeated.height
    elif repeated.height:
        # Identical source rows have identical reasons, so only valid rows are left to flag.
        dup = repeated.with_columns(pl.lit("duplicate_row").alias("reason"))
        repeat_rows = _quarantine_frame(repeats, dup, plan.source_cols, plan.extras)
        quarantine = quarantine.merge_sorted(repeat_rows.lazy(), key=ROW_NUMBER)
        accepted = accepted.filter(~is_repeat)
    keys = ["customer_id", "order_date", "order_id", "revenue", "quantity"]
    transactions = accepted.drop(_ROW).sort(keys, nulls_last=True, maintain_order=True).collect()
    guests = pl.concat(guest_revenue)
    report = _report(
        rows_read, transactions, quarantine, guests.len(), float(guests.sum()), repeats_kept, params, source
    )
    report["optional_columns_not_found"] = plan.left_out
    _check_rejects(report, quarantine, params, source)
    return IngestResult(transactions=transactions, quarantine_rows=quarantine, report=report)


def _spilled(frame: pl.DataFrame, spill: Path | None, kind: str, index: int) -> pl.LazyFrame:
    """``frame`` as a query: in memory, or written to ``spill`` and scanned from there."""
    if spill is None:
        return frame.lazy()
    path = spill / f"{kind}-{index:06d}.arrow"
    frame.write_ipc(path)
    return pl.scan_ipc(path)


def _plan(raw: pl.DataFrame, params: IngestParams, source: str) -> _Plan:
    """The mapping checked against the file's columns (an error names the missing ones)."""
    mapping = params.columns.mapped()
    source_cols = [c for c in raw.columns if c != _ROW and not c.startswith(_EXTRA)]
    # An optional quantity the file does not have is left out, not an error (the bundled
    # params map one); the report says so. Revenue from unit prices needs it.
    left_out = {
        key: col
        for key, col in mapping.items()
        if key == "quantity" and col not in source_cols and "unit_price" not in mapping
    }
    mapping = {key: col for key, col in mapping.items() if key not in left_out}
    missing = {key: col for key, col in mapping.items() if col not in source_cols}
    if missing:
        lines = [f"ingest.columns.{key} = {col!r}" for key, col in missing.items()]
        hint = _near_names(list(missing.values()), source_cols)
        optional = [k for k in missing if k in ("order_id", "quantity", "unit_price", "margin")]
        unset = (
            f" {', '.join(optional)} {'is' if len(optional) == 1 else 'are'} optional: "
            f"set {', '.join(f'ingest.columns.{k}: null' for k in optional)} if the file has none."
            if optional
            else ""
        )
        raise IngestError(
            f"{source}: column(s) not found: {'; '.join(lines)}. "
            f"The file has columns {source_cols}{hint}. Set the mapping key(s) in params.yaml "
            f"to the file's column names.{unset}"
        )
    extras = [c for c in raw.columns if c.startswith(_EXTRA)]
    return _Plan(mapping, left_out, source_cols, extras)


def _keep(plan: _Plan) -> list[str]:
    """The canonical columns; margin only when mapped (a log without one keeps five)."""
    return ["customer_id", "order_date", "revenue", "quantity", "order_id"] + (
        ["margin"] if "margin" in plan.mapping else []
    )


def _parse(raw: pl.DataFrame, plan: _Plan, params: IngestParams) -> pl.DataFrame:
    """Every row of ``raw`` parsed, with the first reason (but duplicate_row) it is rejected."""
    mapping, extras = plan.mapping, plan.extras
    parsed = (
        raw.lazy()
        .select(
            pl.col(_ROW),
            _text(raw, mapping["customer_id"]).alias("customer_id"),
            _date_raw_missing(raw, mapping["order_date"]).alias("_date_missing"),
            _revenue_missing(raw, mapping).alias("_revenue_missing"),
            _revenue_expr(raw, mapping, params.decimal_comma).alias("revenue"),
            *_optional_number(raw, mapping, "quantity", params.decimal_comma),
            (
                _text(raw, mapping["order_id"]) if "order_id" in mapping else pl.lit(None, dtype=pl.String)
            ).alias("order_id"),
            *_optional_number(raw, mapping, "margin", params.decimal_comma),
            (pl.any_horizontal([pl.col(c).is_not_null() for c in extras]) if extras else pl.lit(False)).alias(
                "_extra"
            ),
        )
        .collect()
        .with_columns(_dates(raw, mapping["order_date"], params).alias("order_date"))
    )
    revenue = pl.col("revenue")
    reason = (
        pl.when(pl.col("_extra"))
        .then(pl.lit("extra_fields"))
        .when(pl.col("customer_id").is_null())
        .then(pl.lit("missing_customer_id"))
        .when(pl.col("_date_missing"))
        .then(pl.lit("missing_order_date"))
        .when(pl.col("order_date").is_null())
        .then(pl.lit("unparseable_order_date"))
        .when(pl.col("_revenue_missing"))
        .then(pl.lit("missing_revenue"))
        .when(revenue.is_null())
        .then(pl.lit("non_numeric_revenue"))
        .when(~revenue.is_finite())
        .then(pl.lit("non_finite_revenue"))
        .when(pl.col("_quantity_given") & (pl.col("quantity").is_null() | ~pl.col("quantity").is_finite()))
        .then(pl.lit("invalid_quantity"))
        .when(pl.lit("margin" in mapping) & ~pl.col("_margin_given"))
        .then(pl.lit("missing_margin"))
        .when(pl.lit("margin" in mapping) & (pl.col("margin").is_null() | ~pl.col("margin").is_finite()))
        .then(pl.lit("invalid_margin"))
    )
    return parsed.with_columns(reason.otherwise(None).alias("reason"))


def _optional_number(
    raw: pl.DataFrame, mapping: dict[str, str], key: str, decimal_comma: bool
) -> tuple[pl.Expr, pl.Expr]:
    """An optional numeric field (``key``) and whether its cell is filled (``_<key>_given``)."""
    if key not in mapping:
        return pl.lit(None, dtype=pl.Float64).alias(key), pl.lit(False).alias(f"_{key}_given")
    value = _number_expr(raw, mapping[key], decimal_comma).alias(key)
    return value, _text(raw, mapping[key]).is_not_null().alias(f"_{key}_given")


def _revenue_missing(raw: pl.DataFrame, mapping: dict[str, str]) -> pl.Expr:
    if "unit_price" in mapping:
        return _text(raw, mapping["unit_price"]).is_null() | _text(raw, mapping["quantity"]).is_null()
    return _text(raw, mapping["revenue"]).is_null()


def _revenue_expr(raw: pl.DataFrame, mapping: dict[str, str], decimal_comma: bool) -> pl.Expr:
    """Line revenue: the revenue column, or quantity x unit price."""
    if "unit_price" in mapping:
        price = _number_expr(raw, mapping["unit_price"], decimal_comma)
        return price * _number_expr(raw, mapping["quantity"], decimal_comma)
    return _number_expr(raw, mapping["revenue"], decimal_comma)


def _text(raw: pl.DataFrame, col: str) -> pl.Expr:
    """The column as trimmed text, empty -> null."""
    e = pl.col(col).cast(pl.String).str.strip_chars()
    return pl.when(e == "").then(None).otherwise(e)


def _date_raw_missing(raw: pl.DataFrame, col: str) -> pl.Expr:
    if raw.schema[col].is_temporal():
        return pl.col(col).is_null()
    return _text(raw, col).is_null()


def _date_expr(raw: pl.DataFrame, col: str, params: IngestParams) -> pl.Expr:
    dtype = raw.schema[col]
    tz = params.timezone
    if dtype == pl.Date:
        return pl.col(col)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            return pl.col(col).dt.convert_time_zone(tz).dt.date()
        return pl.col(col).dt.date()
    s = _text(raw, col)
    if params.date_format is not None:
        fmt = params.date_format
        if "%z" in fmt or "%#z" in fmt:
            aware = s.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True)
            return aware.dt.convert_time_zone(tz).dt.date()
        if any(tok in fmt for tok in ("%H", "%M", "%S", "%I")):
            return s.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True).dt.date()
        return s.str.strptime(pl.Date, fmt, strict=False, exact=True)
    return _iso_date(s, tz)


def _iso_date(s: pl.Expr, tz: str) -> pl.Expr:
    """ISO 8601 text as a date in ``tz``: a date, or a date and time with or without an offset."""
    # Normalise the date/time separator and a trailing Z, then try each form.
    iso = s.str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[Tt ]", "$1 ").str.replace(r"[Zz]$", "+00:00")
    naive_forms = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
    return pl.coalesce(
        iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True),
        *[iso.str.strptime(pl.Datetime("us"), f, strict=False, exact=True).dt.date() for f in naive_forms],
        iso.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S%.f%#z", strict=False, exact=True)
        .dt.convert_time_zone(tz)
        .dt.date(),
        iso.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M%#z", strict=False, exact=True)
        .dt.convert_time_zone(tz)
        .dt.date(),
    )


def _dates(raw: pl.DataFrame, col: str, params: IngestParams) -> pl.Series:
    """The order dates of ``raw`` (:func:`_date_expr`), the common case first.

    ISO text is parsed as a plain ``YYYY-MM-DD`` date first, and only the cells that are not
    one go through every ISO form: the same dates as :func:`_iso_date` on every cell (a
    plain date is left as it is by its normalisation and is its first form), at a tenth of
    the cost on a log of plain dates (10M rows: 6.1 s -> 0.6 s).
    """
    if raw.schema[col].is_temporal() or params.date_format is not None:
        return raw.select(_date_expr(raw, col, params)).to_series()
    text = raw.select(_text(raw, col)).to_series()
    plain = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True)
    rest = (plain.is_null() & text.is_not_null()).arg_true()
    if rest.len() == 0:
        return plain
    other = text.gather(rest).to_frame().select(_iso_date(pl.col(text.name), params.timezone))
    return plain.scatter(rest, other.to_series())


def _row_hash(columns: list[str]) -> pl.Expr:
    """A hash of a row's values in ``columns`` (a sum of the fields' seeded hashes): rows
    that are equal have equal hashes (polars hashes -0.0 as 0.0 and every NaN alike).
    """
    return pl.sum_horizontal([pl.col(c).hash(seed=k) for k, c in enumerate(columns)])


def _repeated_rows(
    hashed: pl.DataFrame, columns: list[str], reread: Callable[[pl.Series], pl.DataFrame]
) -> pl.DataFrame:
    """The rows (as read) that repeat an earlier row in every one of ``columns``.

    ``hashed`` holds every row's row number and ``_hash`` (:func:`_row_hash`). Only rows
    whose hash occurs twice are read again (``reread``) and compared field by field: the
    rows a field-by-field comparison of every row finds, with only those rows in memory (a
    CSV is parsed a second time for them: about 2 s of ingest's 12 s on the 10M-row log).
    """
    ordered = hashed["_hash"].sort()
    twice = ordered.filter(ordered == ordered.shift(1)).unique()
    candidates = hashed.filter(pl.col("_hash").is_in(twice.implode()))[_ROW]
    rows = reread(candidates).sort(_ROW)
    # In file order, the first of equal rows is the first among the candidates.
    return rows.filter(~pl.struct(columns).is_first_distinct())


def _number_expr(raw: pl.DataFrame, col: str, decimal_comma: bool) -> pl.Expr:
    dtype = raw.schema[col]
    if dtype.is_numeric():
        return pl.col(col).cast(pl.Float64)
    s = _text(raw, col)
    if decimal_comma:
        s = s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    return s.cast(pl.Float64, strict=False)


def _quarantine_name(column: str) -> str:
    """A source column's name in the quarantine (``source_`` before a name it uses itself)."""
    return f"source_{column}" if column in (ROW_NUMBER, "reason") else column


def _quarantine_frame(
    raw: pl.DataFrame, bad: pl.DataFrame, source_cols: list[str], extras: list[str]
) -> pl.DataFrame:
    """Rejected rows: row_number, reason, then the original values as text."""
    rename = {c: _quarantine_name(c) for c in source_cols}
    original = raw.filter(pl.col(_ROW).is_in(bad[_ROW].implode())).select(
        pl.col(_ROW),
        *[pl.col(c).cast(pl.String).alias(rename[c]) for c in source_cols],
        *(
            [
                pl.concat_str([pl.col(c) for c in extras], separator="|", ignore_nulls=True).alias(
                    "extra_fields"
                )
            ]
            if extras
            else []
        ),
    )
    out = bad.join(original, on=_ROW, how="left").sort(_ROW).rename({_ROW: ROW_NUMBER})
    if "extra_fields" in out.columns:
        extra = pl.col("extra_fields")
        out = out.with_columns(pl.when(extra == "").then(None).otherwise(extra).alias("extra_fields"))
    return out


def _report(
    rows_read: int,
    accepted: pl.DataFrame,
    quarantine: pl.LazyFrame,
    guests: int,
    guest_revenue: float,
    repeats_kept: int,
    params: IngestParams,
    source: str,
) -> dict[str, Any]:
    counts = dict.fromkeys(REASONS, 0)
    for reason, n in quarantine.group_by("reason").len().collect().iter_rows():
        counts[reason] = n
    first, last = (
        (as_date(accepted["order_date"].min()), as_date(accepted["order_date"].max()))
        if accepted.height
        else (None, None)
    )
    accepted_revenue = float(accepted["revenue"].sum())
    return {
        "source": source,
        "rows_read": rows_read,
        "rows_accepted": accepted.height,
        "rows_quarantined": sum(counts.values()),
        "quarantine_reasons": counts,
        "customers": accepted["customer_id"].n_unique(),
        "first_order_date": first.isoformat() if first else None,
        "last_order_date": last.isoformat() if last else None,
        "revenue_total": round(accepted_revenue, 2),
        # Guest checkouts (no customer id): in the quarantine, not a defect of the file.
        "rows_without_customer": guests,
        "revenue_without_customer": round(guest_revenue, 2),
        "revenue_share_without_customer": round(guest_revenue / (guest_revenue + accepted_revenue), 6)
        if guest_revenue + accepted_revenue > 0
        else 0.0,
        "rows_negative_revenue": int((accepted["revenue"] < 0).sum()),
        "rows_zero_revenue": int((accepted["revenue"] == 0).sum()),
        "duplicates_policy": params.duplicates,
        "duplicate_rows_kept": repeats_kept,
        "timezone": params.timezone,
    }


def _check_rejects(
    report: dict[str, Any], quarantine: pl.LazyFrame, params: IngestParams, source: str
) -> None:
    rows_read, guests = report["rows_read"], report["rows_without_customer"]
    if guests > params.max_guest_share * rows_read:
        guest_rows = (
            quarantine.filter(pl.col("reason") == "missing_customer_id")
            .select(ROW_NUMBER)
            .head(5)
            .collect()[ROW_NUMBER]
        )
        raise IngestError(
            f"{source}: {guests} of {rows_read} rows ({guests / rows_read:.1%}) have no customer id, "
            f"above ingest.max_guest_share = {params.max_guest_share} (e.g. rows "
            f"{', '.join(map(str, guest_rows))}). "
            f"Check ingest.columns.customer_id ({params.columns.customer_id!r}), or raise the limit."
        )
    if report["rows_accepted"] == 0 and guests == rows_read:
        raise IngestError(
            f"{source}: every one of the {rows_read} rows has no customer id; check "
            f"ingest.columns.customer_id ({params.columns.customer_id!r})"
        )
    rejected = report["rows_quarantined"] - guests
    if rejected == 0:
        return
    share = rejected / rows_read
    if report["rows_accepted"] > 0 and share <= params.max_reject_share:
        return
    defects = quarantine.filter(pl.col("reason") != "missing_customer_id")
    top = (
        defects.group_by("reason")
        .agg(pl.len().alias("n"), pl.col(ROW_NUMBER).sort().head(5).alias("rows"))
        .sort(["n", "reason"], descending=[True, False])
        .head(3)
        .collect()
    )
    parts = [f"{r} ({n} rows, e.g. rows {', '.join(map(str, rows))})" for r, n, rows in top.iter_rows()]
    examples = [_number_example(defects, r, params) for r in top["reason"]]
    reasons = "; ".join(parts) + _date_example(defects, params) + "".join(examples)
    if report["rows_accepted"] == 0:
        raise IngestError(
            f"{source}: every one of the {rows_read} rows was rejected: {reasons}. "
            "Check the column mapping (ingest.columns), ingest.date_format and ingest.delimiter."
        )
    raise IngestError(
        f"{source}: {rejected} of {rows_read} rows ({share:.1%}) were rejected, above "
        f"ingest.max_reject_share = {params.max_reject_share}. Top reasons: {reasons}. "
        "Fix the file, or raise ingest.max_reject_share in params.yaml to accept it as is."
    )


def _date_example(defects: pl.LazyFrame, params: IngestParams) -> str:
    """The first unparseable date, the format tried and what looks wrong about it."""
    column = params.columns.order_date
    if column not in defects.collect_schema().names():
        return ""
    bad = (
        defects.filter(pl.col("reason") == "unparseable_order_date")
        .select(ROW_NUMBER, column)
        .head(1)
        .collect()
    )
    if bad.is_empty():
        return ""
    row, value = bad.row(0)
    fmt = params.date_format
    tried = repr(fmt) if fmt else "ISO 8601 (YYYY-MM-DD, optionally with a time)"
    text = "" if value is None else str(value)
    if fmt and ":" in text and "%H" not in fmt:
        hint = f"; it has a time part: add it to ingest.date_format (e.g. '{fmt} %H:%M')"
    elif not fmt and any(sep in text for sep in "/."):
        hint = "; set ingest.date_format to its pattern (e.g. '%d/%m/%Y' or '%m/%d/%Y')"
    elif not fmt and re.fullmatch(r"\d{5}(\.\d*)?", text):
        day = _SPREADSHEET_DAY_ZERO + dt.timedelta(days=int(float(text)))
        hint = (
            f"; it looks like a spreadsheet's day number ({text} is {day.isoformat()}): format the "
            "column as dates (YYYY-MM-DD) in the spreadsheet before saving the CSV"
        )
    else:
        hint = ""
    return f". Row {row}: {text!r} does not match {tried}{hint}"


#: Day 0 of spreadsheet day numbers (Excel's 1900 system as exported, LibreOffice's default).
_SPREADSHEET_DAY_ZERO = dt.date(1899, 12, 30)


def _number_keys(reason: str, mapping: dict[str, str]) -> tuple[str, ...]:
    """The mapped fields whose cell a row rejected for ``reason`` may fail to parse as a
    number (revenue: its own column, or unit price x quantity as :func:`_revenue_expr`)."""
    if reason == "non_numeric_revenue":
        return ("unit_price", "quantity") if "unit_price" in mapping else ("revenue",)
    return {"invalid_quantity": ("quantity",), "invalid_margin": ("margin",)}.get(reason, ())


def _number_example(defects: pl.LazyFrame, reason: str, params: IngestParams) -> str:
    """The first cell rejected for ``reason`` that is not a number, and what would fix it
    ("" for a reason that is not about a number)."""
    mapping = params.columns.mapped()
    keys = _number_keys(reason, mapping)
    if not keys:
        return ""
    bad = defects.filter(pl.col("reason") == reason).head(1).collect()
    if bad.is_empty():
        return ""
    for key in keys:
        column = mapping.get(key)
        if column is None:
            continue
        stored = _quarantine_name(column)
        if stored not in bad.columns or bad[stored][0] is None:
            continue
        cell = bad.select(pl.col(stored).cast(pl.String))
        if cell.select(_number_expr(cell, stored, params.decimal_comma).is_not_null()).item():
            continue  # a number (the row's fault is elsewhere, e.g. infinite)
        text = str(cell.item()).strip()
        return f". Row {bad[ROW_NUMBER][0]}: column {column!r} holds {text!r}, not a number: " + _number_hint(
            text, params.decimal_comma
        )
    return ""


def _number_hint(text: str, decimal_comma: bool) -> str:
    """What makes ``text`` a number the reader accepts (see :func:`_number_expr`)."""
    if re.search(r"[$€£¥₹]|^[A-Za-z]{3}\s|\s[A-Za-z]{3}$", text):
        return "remove the currency symbol or code from the column (plain numbers such as 1234.50)"
    if not decimal_comma:
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+\.\d*", text):
            return "remove the thousands separators (1234.50, not 1,234.50)"
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", text):
            return (
                "it has a comma: if it separates thousands, remove them; if it is the decimal mark, "
                "set ingest.decimal_comma: true"
            )
        if re.fullmatch(r"[-+]?\d*,\d+", text):
            return "it has a decimal comma: set ingest.decimal_comma: true"
    return "the column must hold plain numbers such as 1234.50"


def _near_names(wanted: list[str], have: list[str]) -> str:
    """A hint for names that differ only by case or spacing."""
    folded = {h.lower().replace(" ", "").replace("_", ""): h for h in have}
    hits = [
        f"{w!r} -> {folded[k]!r}"
        for w in wanted
        if (k := w.lower().replace(" ", "").replace("_", "")) in folded
    ]
    return f" (did you mean {', '.join(hits)}?)" if hits else ""
