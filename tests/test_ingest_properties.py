"""Reconciliation holds for any mix of good and bad rows."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_engine import ingest
from clv_engine.ingest import validate_batches, validate_log
from clv_engine.params import IngestParams

ids = st.sampled_from(["A", "00001", " b ", "", "  ", "Zoë 7", None])
dates = st.sampled_from(["1997-01-01", "1997-02-30", "1998-06-30T10:00:00Z", "", "nope", "01/02/1997", None])
revenues = st.sampled_from(["1.5", "-3", "0", "", "NaN", "inf", "abc", "1e12", None])
rows = st.lists(st.tuples(ids, dates, revenues), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(rows=rows, duplicates=st.sampled_from(["quarantine", "keep"]))
def test_counts_reconcile(rows, duplicates):
    raw = pl.DataFrame(
        rows, schema={"customer_id": pl.String, "order_date": pl.String, "revenue": pl.String}, orient="row"
    ).with_row_index("row_number", offset=1)
    params = IngestParams(max_reject_share=1.0, duplicates=duplicates)
    try:
        result = validate_log(raw, params)
    except ValueError as exc:
        assert "every one of the" in str(exc)
        return
    report = result.report
    assert report["rows_read"] == len(rows)
    assert report["rows_read"] == report["rows_accepted"] + report["rows_quarantined"]
    assert sum(report["quarantine_reasons"].values()) == report["rows_quarantined"]
    assert result.transactions.height == report["rows_accepted"]
    # every source row is in exactly one of the two outputs
    assert result.quarantine["row_number"].n_unique() == result.quarantine.height
    assert result.transactions["revenue"].is_finite().all()
    assert result.transactions["customer_id"].str.strip_chars().eq(result.transactions["customer_id"]).all()


iso_dates = st.sampled_from(
    [
        "1997-01-01",
        " 1997-1-2 ",
        "1997-02-30",
        "1998-06-30T10:00:00Z",
        "1998-06-30 23:30:00+05:00",
        "1998-06-30t01:15",
        "1998-06-30 10:00:00.123",
        "1998-06-30Z",
        "",
        "nope",
        "01/02/1997",
        None,
    ]
)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(iso_dates, min_size=1, max_size=40), tz=st.sampled_from(["UTC", "America/New_York"]))
def test_plain_dates_first_parses_every_iso_form_as_the_full_rule(values, tz):
    # _dates parses plain YYYY-MM-DD first and sends only the rest through every ISO form.
    raw = pl.DataFrame({"order_date": values}, schema={"order_date": pl.String})
    params = IngestParams(timezone=tz)
    full = raw.select(ingest._date_expr(raw, "order_date", params)).to_series()
    assert ingest._dates(raw, "order_date", params).equals(full)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "", None]),
            st.sampled_from(["1", "1.0", None]),
            st.sampled_from(["x", "y"]),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_repeats_by_hash_are_the_field_by_field_repeats(rows):
    raw = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String, "c": pl.String}, orient="row")
    typed = raw.with_columns(pl.col("b").cast(pl.Float64))  # Parquet: other types, 1 == 1.0
    row = ingest._ROW  # the reader's row number
    for frame in (raw, typed):
        frame = frame.with_row_index(row, offset=1)
        exact = frame.filter(~pl.struct("a", "b", "c").is_first_distinct())[row]

        def reread(numbers, frame=frame):
            return frame.filter(pl.col(row).is_in(numbers.implode()))

        hashed = frame.select(row, ingest._row_hash(["a", "b", "c"]).alias("_hash"))
        found = ingest._repeated_rows(hashed, ["a", "b", "c"], reread)
        assert found[row].to_list() == exact.to_list()
        # A hash that collides on every row still finds exactly the repeats.
        collided = hashed.with_columns(pl.lit(7, dtype=pl.UInt64).alias("_hash"))
        assert ingest._repeated_rows(collided, ["a", "b", "c"], reread)[row].to_list() == exact.to_list()


@settings(max_examples=100, deadline=None)
@given(
    rows=rows,
    duplicates=st.sampled_from(["quarantine", "keep"]),
    batch=st.integers(min_value=1, max_value=7),
)
def test_validation_in_batches_is_validation_of_the_whole_log(rows, duplicates, batch):
    raw = pl.DataFrame(
        rows, schema={"customer_id": pl.String, "order_date": pl.String, "revenue": pl.String}, orient="row"
    ).with_row_index("row_number", offset=1)
    params = IngestParams(max_reject_share=1.0, duplicates=duplicates)

    read = raw.rename({"row_number": ingest._ROW})  # as the reader gives the rows

    def reread(numbers):
        return read.filter(pl.col(ingest._ROW).is_in(numbers.implode()))

    batches = [read.slice(start, batch) for start in range(0, read.height, batch)]
    try:
        whole = validate_log(raw, params)
    except ValueError as exc:
        with pytest.raises(ValueError, match="every one of the"):
            validate_batches(batches, params, "<frame>", reread)
        assert "every one of the" in str(exc)
        return
    parts = validate_batches(batches, params, "<frame>", reread)
    # A frame without row numbers is numbered in order.
    assert validate_log(raw.drop("row_number"), params).quarantine.equals(whole.quarantine)
    assert parts.transactions.equals(whole.transactions)
    assert parts.quarantine.equals(whole.quarantine)
    assert parts.report == whole.report
