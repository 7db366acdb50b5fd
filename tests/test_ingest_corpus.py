"""A corpus of hand-made malformed logs, each with its exact expected outcome."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from clv_engine.ingest import REASONS, IngestError, ingest, read_log, validate_log
from clv_engine.params import ColumnMapping, IngestParams

HEADER = "customer_id,order_date,revenue\n"


def run(tmp_path: Path, content: str | bytes, name: str = "log.csv", **kwargs):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    kwargs.setdefault("max_reject_share", 1.0)
    return ingest(IngestParams(path=str(path), **kwargs))


def reasons(result) -> dict[str, int]:
    return {k: v for k, v in result.report["quarantine_reasons"].items() if v}


def test_clean_file_keeps_ids_as_text(tmp_path):
    result = run(tmp_path, HEADER + "00001,1997-01-01,11.77\n 0002 ,1997-01-02,0\n")
    assert result.transactions["customer_id"].to_list() == ["00001", "0002"]
    assert result.transactions["revenue"].to_list() == [11.77, 0.0]
    assert result.report["rows_accepted"] == 2 and result.report["rows_quarantined"] == 0


def test_bad_dates_are_quarantined_with_row_numbers(tmp_path):
    content = HEADER + "1,1997-01-01,1\n2,1997-02-30,1\n3,yesterday,1\n4,,1\n"
    result = run(tmp_path, content)
    q = result.quarantine
    assert q.select("row_number", "reason").rows() == [
        (2, "unparseable_order_date"),
        (3, "unparseable_order_date"),
        (4, "missing_order_date"),
    ]
    assert q["order_date"].to_list() == ["1997-02-30", "yesterday", None]


def test_blank_and_whitespace_ids(tmp_path):
    result = run(tmp_path, HEADER + ",1997-01-01,1\n   ,1997-01-01,1\nA,1997-01-01,1\n")
    assert reasons(result) == {"missing_customer_id": 2}


def test_text_in_revenue(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01,abc\nA,1997-01-01,$12.00\nA,1997-01-01,\nA,1997-01-01,3\n")
    assert reasons(result) == {"non_numeric_revenue": 2, "missing_revenue": 1}


def test_nan_and_inf_revenue(tmp_path):
    result = run(
        tmp_path, HEADER + "A,1997-01-01,NaN\nA,1997-01-01,inf\nA,1997-01-01,-Infinity\nA,1997-01-01,1\n"
    )
    assert reasons(result) == {"non_finite_revenue": 3}


def test_negative_revenue_is_a_valid_return(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01,10\nA,1997-01-05,-4.5\n")
    assert result.report["rows_negative_revenue"] == 1 and result.report["rows_quarantined"] == 0


def test_utf8_bom(tmp_path):
    result = run(tmp_path, b"\xef\xbb\xbf" + HEADER.encode() + b"A,1997-01-01,1\n")
    assert result.report["rows_accepted"] == 1


def test_crlf_line_endings(tmp_path):
    result = run(tmp_path, HEADER.replace("\n", "\r\n") + "A,1997-01-01,1.5\r\nB,1997-01-02,2\r\n")
    assert result.transactions["revenue"].to_list() == [1.5, 2.0]
    assert result.transactions["customer_id"].to_list() == ["A", "B"]


def test_semicolon_delimited_with_decimal_comma(tmp_path):
    content = "customer_id;order_date;revenue\nA;1997-01-01;12,50\nB;1997-01-02;1.234,00\n"
    result = run(tmp_path, content, decimal_comma=True)
    assert result.report["delimiter"] == ";"
    assert result.transactions["revenue"].to_list() == [12.5, 1234.0]


def test_quoted_fields_with_commas_and_quotes(tmp_path):
    content = HEADER + '"Smith, John",1997-01-01,5\n"say ""hi""",1997-01-02,6\n'
    result = run(tmp_path, content)
    assert sorted(result.transactions["customer_id"].to_list()) == ["Smith, John", 'say "hi"']


def test_wrong_column_names_lists_columns_and_key(tmp_path):
    with pytest.raises(IngestError) as err:
        run(tmp_path, "CustomerID,Date,Amount\nA,1997-01-01,1\n")
    msg = str(err.value)
    assert "ingest.columns.customer_id = 'customer_id'" in msg
    assert "['CustomerID', 'Date', 'Amount']" in msg
    assert "did you mean 'customer_id' -> 'CustomerID'" in msg


def test_column_mapping_reads_other_names(tmp_path):
    cols = ColumnMapping(customer_id="CustomerID", order_date="Date", revenue="Amount")
    result = run(tmp_path, "CustomerID,Date,Amount\nA,1997-01-01,1\n", columns=cols)
    assert result.report["rows_accepted"] == 1


def test_empty_file(tmp_path):
    with pytest.raises(IngestError, match=r"log\.csv: the file is empty"):
        run(tmp_path, "")


def test_header_only(tmp_path):
    with pytest.raises(IngestError, match="has a header but no data rows"):
        run(tmp_path, HEADER)


def test_missing_file_names_key(tmp_path):
    with pytest.raises(IngestError, match=r"nope\.csv: file not found; set ingest.path"):
        ingest(IngestParams(path=str(tmp_path / "nope.csv")))


def test_unknown_extension(tmp_path):
    with pytest.raises(IngestError, match=r"set ingest.format"):
        run(tmp_path, HEADER + "A,1997-01-01,1\n", name="log.dat")


def test_duplicates_quarantined_by_default(tmp_path):
    content = HEADER + "A,1997-01-01,1\nA,1997-01-01,1\nA,1997-01-01,1\nB,1997-01-01,1\n"
    result = run(tmp_path, content)
    assert result.quarantine.select("row_number", "reason").rows() == [
        (2, "duplicate_row"),
        (3, "duplicate_row"),
    ]
    assert result.report["rows_accepted"] == 2


def test_duplicates_kept_when_asked(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01,1\nA,1997-01-01,1\n", duplicates="keep")
    assert result.report["rows_accepted"] == 2 and result.report["duplicate_rows_kept"] == 1


def test_mixed_date_formats(tmp_path):
    content = HEADER + (
        "A,1997-01-01,1\nB,1997-01-01T10:30:00,1\nC,1997-01-01 23:30:00+05:00,1\n"
        "D,1997-01-01T23:30:00Z,1\nE,01/02/1997,1\nF,1997-12-31T22:00:00-0300,1\n"
    )
    result = run(tmp_path, content)
    got = dict(result.transactions.select("customer_id", "order_date").rows())
    assert got == {
        "A": dt.date(1997, 1, 1),
        "B": dt.date(1997, 1, 1),
        "C": dt.date(1997, 1, 1),  # 18:30 UTC
        "D": dt.date(1997, 1, 1),
        "F": dt.date(1998, 1, 1),  # 01:00 UTC
    }
    assert result.quarantine.select("row_number", "reason").rows() == [(5, "unparseable_order_date")]


def test_timezone_moves_offset_timestamps_across_midnight(tmp_path):
    content = HEADER + "A,1997-01-01T03:00:00Z,1\nB,1997-01-01T03:00:00,1\n"
    result = run(tmp_path, content, timezone="America/New_York")
    got = dict(result.transactions.select("customer_id", "order_date").rows())
    # 03:00 UTC is 22:00 the day before in New York; a naive time is already local.
    assert got == {"A": dt.date(1996, 12, 31), "B": dt.date(1997, 1, 1)}


def test_custom_date_format(tmp_path):
    result = run(tmp_path, HEADER + "A,31/12/1997,1\nB,1997-12-31,1\n", date_format="%d/%m/%Y")
    assert result.transactions["order_date"].to_list() == [dt.date(1997, 12, 31)]
    assert reasons(result) == {"unparseable_order_date": 1}


def test_unparseable_dates_show_an_example_the_format_and_what_is_wrong(tmp_path):
    content = HEADER + "A,08/08/2022 23:33,1\nB,08/09/2022 10:00,1\n"
    with pytest.raises(IngestError) as err:
        run(tmp_path, content, date_format="%m/%d/%Y", max_reject_share=0.05)
    assert "Row 1: '08/08/2022 23:33' does not match '%m/%d/%Y'; it has a time part" in str(err.value)
    with pytest.raises(IngestError) as err:
        run(tmp_path, HEADER + "A,31/12/1997,1\n", max_reject_share=0.05)
    assert "Row 1: '31/12/1997' does not match ISO 8601" in str(err.value)
    assert "set ingest.date_format" in str(err.value)


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ('"$1,234.50"', "remove the currency symbol or code"),
        ("EUR 12.50", "remove the currency symbol or code"),
        ('"1,234.50"', "remove the thousands separators"),
        ('"12,50"', "set ingest.decimal_comma: true"),
        (
            '"1,234"',
            "if it separates thousands, remove them; if it is the decimal mark, set ingest.decimal_comma",
        ),
        ("n/a", "plain numbers such as 1234.50"),
    ],
)
def test_a_revenue_that_is_not_a_number_shows_the_value_and_the_fix(tmp_path, cell, hint):
    with pytest.raises(IngestError) as err:
        run(tmp_path, HEADER + f"A,2023-12-31,{cell}\nB,2024-01-02,7\n", max_reject_share=0.05)
    shown = cell.strip('"')
    assert f"Row 1: column 'revenue' holds {shown!r}, not a number" in str(err.value)
    assert hint in str(err.value)


def test_a_quantity_that_is_not_a_number_names_its_column(tmp_path):
    content = "customer_id,order_date,revenue,qty\nA,2023-12-31,5,two\nB,2024-01-02,7,1\n"
    with pytest.raises(IngestError) as err:
        run(tmp_path, content, columns=ColumnMapping(quantity="qty"), max_reject_share=0.05)
    assert "invalid_quantity" in str(err.value) and "Row 1: column 'qty' holds 'two', not a number" in str(
        err.value
    )


def test_a_spreadsheet_day_number_is_recognised_as_a_date(tmp_path):
    with pytest.raises(IngestError) as err:
        run(tmp_path, HEADER + "A,45291,1\nB,45306,2\n", max_reject_share=0.05)
    assert "Row 1: '45291' does not match ISO 8601" in str(err.value)
    assert "a spreadsheet's day number (45291 is 2023-12-31)" in str(err.value)


def test_extra_fields_are_quarantined_not_truncated(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01,1\nB,1997-01-01,1,oops\n")
    q = result.quarantine
    assert q.select("row_number", "reason", "extra_fields").rows() == [(2, "extra_fields", "oops")]


def test_short_row_is_missing_fields(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01,1\nB\n")
    assert result.quarantine.select("row_number", "reason").rows() == [(2, "missing_order_date")]


def test_invalid_quantity(tmp_path):
    content = "customer_id,order_date,revenue,qty\nA,1997-01-01,1,two\nA,1997-01-02,1,\nA,1997-01-03,1,3\n"
    cols = ColumnMapping(quantity="qty")
    result = run(tmp_path, content, columns=cols)
    assert reasons(result) == {"invalid_quantity": 1}
    assert result.transactions["quantity"].to_list() == [None, 3.0]


def test_non_utf8_file(tmp_path):
    content = HEADER.encode() + "Zoë,1997-01-01,1\n".encode("latin-1")
    with pytest.raises(IngestError, match=r"not UTF-8.*ingest.encoding: utf8-lossy"):
        run(tmp_path, content)
    assert run(tmp_path, content, encoding="utf8-lossy").report["rows_accepted"] == 1


def test_every_row_bad(tmp_path):
    with pytest.raises(IngestError, match=r"every one of the 2 rows was rejected: unparseable_order_date"):
        run(tmp_path, HEADER + "A,x,1\nB,y,2\n")


def test_reject_share_above_limit_names_key_share_and_rows(tmp_path):
    content = HEADER + "A,1997-01-01,1\nB,x,1\nC,1997-01-01,abc\nD,1997-01-01,1\n"
    with pytest.raises(IngestError) as err:
        run(tmp_path, content, max_reject_share=0.25)
    msg = str(err.value)
    assert "2 of 4 rows (50.0%)" in msg and "ingest.max_reject_share = 0.25" in msg
    assert "unparseable_order_date (1 rows, e.g. rows 2)" in msg


def test_parquet_with_wrong_types(tmp_path):
    frame = pl.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "order_date": ["1997-01-01", "bad", "1997-01-03"],
            "revenue": ["1.5", "2", "x"],
        }
    )
    frame.write_parquet(tmp_path / "log.parquet")
    result = ingest(IngestParams(path=str(tmp_path / "log.parquet"), max_reject_share=1.0))
    assert result.transactions["customer_id"].to_list() == ["1"]
    assert reasons(result) == {"unparseable_order_date": 1, "non_numeric_revenue": 1}


def test_parquet_native_timestamps_with_zone(tmp_path):
    frame = pl.DataFrame(
        {
            "customer_id": ["A", "B"],
            "order_date": [dt.datetime(1997, 1, 1, 3), dt.datetime(1997, 1, 1, 12)],
            "revenue": [1.0, 2.0],
        }
    ).with_columns(pl.col("order_date").dt.replace_time_zone("UTC"))
    frame.write_parquet(tmp_path / "log.parquet")
    params = IngestParams(path=str(tmp_path / "log.parquet"), timezone="Asia/Tokyo")
    got = ingest(params).transactions["order_date"].to_list()
    assert got == [dt.date(1997, 1, 1), dt.date(1997, 1, 1)]
    params = IngestParams(path=str(tmp_path / "log.parquet"), timezone="America/Los_Angeles")
    assert ingest(params).transactions["order_date"].to_list() == [dt.date(1996, 12, 31), dt.date(1997, 1, 1)]


def test_not_a_parquet_file(tmp_path):
    (tmp_path / "log.parquet").write_text("this is not parquet")
    with pytest.raises(IngestError, match=r"log\.parquet: not a readable Parquet file"):
        ingest(IngestParams(path=str(tmp_path / "log.parquet")))


def test_repeated_header_names(tmp_path):
    with pytest.raises(IngestError, match=r"repeats the column name\(s\) \['revenue'\]"):
        run(tmp_path, "customer_id,order_date,revenue,revenue\nA,1997-01-01,1,2\n")


def test_quarantine_keeps_original_values_and_report_lists_every_reason(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01, 1e999 \nB,1997-01-01,1\n")
    assert result.quarantine.row(0, named=True) == {
        "row_number": 1,
        "reason": "non_finite_revenue",
        "customer_id": "A",
        "order_date": "1997-01-01",
        "revenue": " 1e999 ",
        "extra_fields": None,
    }
    assert set(result.report["quarantine_reasons"]) == set(REASONS)


LINE_ITEMS = (
    "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID\n"
    "536365,85123A,6,2010-12-01 08:26:00,2.55,17850\n"
    "536365,71053,6,2010-12-01 08:26:00,3.39,17850\n"
    "536365,71053,6,2010-12-01 08:26:00,3.39,17850\n"  # a true duplicate of the line above
    "536366,22633,6,2010-12-01 08:28:00,1.85,\n"  # guest checkout
    "536367,22632,6,2010-12-01 08:28:00,1.85,\n"
    "536368,84879,32,2010-12-01 08:34:00,1.69,13047\n"
    "536368,84880,32,2010-12-01 08:34:00,1.69,13047\n"  # same mapped values, another item
    "C536379,D,-1,2010-12-01 09:41:00,27.50,14527\n"  # a cancellation
)
LINE_COLUMNS = ColumnMapping(
    customer_id="Customer ID",
    order_date="InvoiceDate",
    revenue=None,
    unit_price="Price",
    quantity="Quantity",
    order_id="Invoice",
)


def test_line_item_export_with_guests_gzipped(tmp_path):
    import gzip

    (tmp_path / "export.csv.gz").write_bytes(gzip.compress(LINE_ITEMS.encode()))
    result = ingest(
        IngestParams(
            path=str(tmp_path / "export.csv.gz"),
            columns=LINE_COLUMNS,
            duplicates="quarantine",
            max_reject_share=0.2,  # the one true duplicate is 1 row of 8 here
        )
    )
    r = result.report
    assert r["format"] == "csv.gz"
    # guest checkouts are counted apart and do not trip max_reject_share (5%)
    assert r["rows_without_customer"] == 2
    assert r["revenue_without_customer"] == pytest.approx(2 * 6 * 1.85)
    assert reasons(result) == {"missing_customer_id": 2, "duplicate_row": 1}
    # two products at the same price in one invoice are two lines: duplicates are whole rows
    tx = result.transactions
    assert tx.height == 5 and r["rows_read"] == r["rows_accepted"] + r["rows_quarantined"]
    assert tx.filter(pl.col("customer_id") == "13047").height == 2
    # revenue = quantity x unit price; a cancellation is negative
    assert tx.filter(pl.col("order_id") == "C536379")["revenue"].to_list() == [-27.5]
    assert r["revenue_total"] == pytest.approx(15.3 + 20.34 + 2 * 54.08 - 27.5)


def test_guest_share_has_its_own_limit(tmp_path):
    content = HEADER + "A,1997-01-01,1\n,1997-01-01,2\n,1997-01-02,3\n"
    assert run(tmp_path, content, max_reject_share=0.0).report["rows_without_customer"] == 2
    with pytest.raises(IngestError, match=r"2 of 3 rows \(66.7%\) have no customer id.*max_guest_share"):
        run(tmp_path, content, max_guest_share=0.5)


def test_a_mapped_quantity_the_file_lacks_is_left_out_and_said(tmp_path):
    result = run(tmp_path, HEADER + "A,1997-01-01,1\n", columns=ColumnMapping(quantity="quantity"))
    assert result.report["optional_columns_not_found"] == {"quantity": "quantity"}
    assert result.transactions["quantity"].is_null().all()


def test_a_missing_order_id_says_it_is_optional(tmp_path):
    with pytest.raises(IngestError, match=r"order_id is optional: set ingest.columns.order_id: null"):
        run(tmp_path, HEADER + "A,1997-01-01,1\n", columns=ColumnMapping(order_id="Invoice"))


MIXED = (
    HEADER
    + "A,1997-01-01,1\nA,1997-01-01,1\n,1997-01-02,3\nB,nope,2\nA,1997-01-01,1,extra\n"
    + "B,1997-01-03,2\nC,1997-01-04,x\nB,1997-01-03,2\nA,1997-01-01,1\n"
)


@pytest.mark.parametrize("duplicates", ["quarantine", "keep"])
@pytest.mark.parametrize(("content", "name"), [(MIXED, "log.csv"), (LINE_ITEMS, "export.csv.gz")])
def test_reading_in_batches_gives_the_whole_file_s_result(tmp_path, content, name, duplicates):
    import gzip

    path = tmp_path / name
    path.write_bytes(gzip.compress(content.encode()) if name.endswith(".gz") else content.encode())
    columns = LINE_COLUMNS if name.endswith(".gz") else ColumnMapping()
    params = IngestParams(path=str(path), columns=columns, duplicates=duplicates, max_reject_share=1.0)
    whole = ingest(params)
    # Repeats across batches (rows 1, 2 and 9; 6 and 8) are found; row numbers run on.
    for rows in (1, 2, 4):
        parts = ingest(params, batch_rows=rows)
        assert parts.transactions.equals(whole.transactions)
        assert parts.quarantine.equals(whole.quarantine)
        assert parts.report == whole.report
        # As the stage runs it: the quarantine is read from the spill directory when written.
        spill = tmp_path / f"spill-{rows}"
        spill.mkdir()
        spilled = ingest(params, batch_rows=rows, spill=spill)
        assert spilled.quarantine.equals(whole.quarantine) and spilled.report == whole.report
        assert sorted(p.name for p in spill.iterdir())[0] == "accepted-000000.arrow"
    if name == "log.csv":
        expected = 3 if duplicates == "quarantine" else 0
        assert reasons(whole).get("duplicate_row", 0) == expected
        assert whole.report["duplicate_rows_kept"] == 3 - expected


def test_a_log_with_its_own_row_number_column(tmp_path):
    # The reader numbers rows under an internal name; the file's column stays a source column.
    content = "row_number,customer_id,order_date,revenue\n7,A,1997-01-01,1\n9,B,nope,2\n9,B,nope,2\n"
    result = run(tmp_path, content)
    # clv-score's path: the whole file read, then validated.
    raw, _ = read_log(IngestParams(path=str(tmp_path / "log.csv")))
    again = validate_log(raw, IngestParams(max_reject_share=1.0))
    assert again.transactions.equals(result.transactions) and again.quarantine.equals(result.quarantine)
    assert result.transactions["customer_id"].to_list() == ["A"]
    assert result.quarantine.select("row_number", "reason", "source_row_number").rows() == [
        (2, "unparseable_order_date", "9"),
        (3, "unparseable_order_date", "9"),
    ]


def test_a_unit_price_that_is_not_a_number_is_the_example_of_a_non_numeric_revenue(tmp_path):
    content = "customer_id,order_date,qty,price\nA,2023-12-31,2,$3.00\nB,2024-01-02,1,4\n"
    columns = ColumnMapping(revenue=None, quantity="qty", unit_price="price")
    with pytest.raises(IngestError) as err:
        run(tmp_path, content, columns=columns, max_reject_share=0.05)
    assert "Row 1: column 'price' holds '$3.00', not a number: remove the currency symbol" in str(err.value)


def test_a_spreadsheet_workbook_is_named_as_one_with_the_way_to_csv(tmp_path):
    with pytest.raises(IngestError, match=r"log\.xlsx: a spreadsheet workbook.*save the sheet as CSV"):
        run(tmp_path, b"PK\x03\x04 not a csv", name="log.xlsx")
