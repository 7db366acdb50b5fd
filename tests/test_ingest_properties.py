"""Reconciliation holds for any mix of good and bad rows."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_engine.ingest import validate_log
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
