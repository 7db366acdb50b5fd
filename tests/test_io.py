from __future__ import annotations

import polars as pl
import pytest

from clv_engine.io import (
    OutputError,
    atomic_path,
    read_csv_for_people,
    read_json,
    restore_cells,
    write_csv,
    write_json,
)


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous complete output\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "previous complete output\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_unwritable_path_names_the_path(tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputError, match=r"cannot write .*reports/metrics\.json"):
        write_json({"a": 1}, blocker / "metrics.json")


def test_json_is_byte_stable(tmp_path):
    write_json({"b": 1.5, "a": [1, 2]}, tmp_path / "x.json")
    assert (tmp_path / "x.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1.5\n}\n'


def test_csv_round_trip(tmp_path):
    df = pl.DataFrame({"customer_id": ["007"], "v": [1.25]})
    write_csv(df, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text() == "customer_id,v\n007,1.25\n"


def test_sigkill_mid_write_leaves_previous_file_and_next_write_cleans_up(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "transactions.csv"
    target.write_text("previous,complete\n")
    child = (
        "import os, signal\n"
        "from clv_engine.io import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    tmp.write_text('half of a new fi')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", child], check=False)
    assert proc.returncode == -9
    assert target.read_text() == "previous,complete\n"
    assert len(list(tmp_path.glob(".transactions.csv.*.tmp"))) == 1  # SIGKILL: no cleanup possible
    write_csv(pl.DataFrame({"a": [1]}), target)
    assert target.read_text() == "a\n1\n"
    assert list(tmp_path.glob(".transactions.csv.*.tmp")) == []


HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+SUM(A1:A2)",
    "-2+3",
    "@cmd",
    '=cmd|"/c calc"!A1',
    "\tx",
    "\rx",
    "'=quoted",
    "plain",
]


def test_csv_for_people_neutralises_formulas_and_reads_back_exactly(tmp_path):
    df = pl.DataFrame({"customer_id": HOSTILE, "amount": [-1.5] * len(HOSTILE)})
    write_csv(df, tmp_path / "x.csv", for_people=True)
    back = pl.read_csv(tmp_path / "x.csv", infer_schema=False)
    for cell in back["customer_id"]:
        assert cell == "plain" or cell.startswith("'"), cell
    assert back["amount"].to_list() == ["-1.5"] * len(HOSTILE)  # numbers stay numbers
    assert restore_cells(back)["customer_id"].to_list() == HOSTILE
    write_csv(df, tmp_path / "y.csv")  # files for programs are left as they are
    assert pl.read_csv(tmp_path / "y.csv", infer_schema=False)["customer_id"].to_list() == HOSTILE


def test_csv_for_people_starts_with_a_bom_so_excel_reads_utf8(tmp_path):
    import csv

    df = pl.DataFrame({"customer_id": ["Zoë", "Łukasz", "東京"], "amount": [1.0, 2.0, 3.0]})
    write_csv(df, tmp_path / "people.csv", for_people=True)
    write_csv(df, tmp_path / "programs.csv")
    assert (tmp_path / "people.csv").read_bytes().startswith(b"\xef\xbb\xbfcustomer_id,")
    assert (tmp_path / "programs.csv").read_bytes().startswith(b"customer_id,")
    assert read_csv_for_people(tmp_path / "people.csv")["customer_id"].to_list() == ["Zoë", "Łukasz", "東京"]
    with open(tmp_path / "people.csv", encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh)) == ["customer_id", "amount"]


def test_written_numbers_do_not_depend_on_the_last_bit(tmp_path):
    # 493.645375 is a mean of 16 amounts in cents: a half at the 8th digit, which a
    # last-bit difference upstream would push either way; 11.885 is a half cent.
    values = [493.645375, 388.800125, 11.885, 0.1 + 0.2]
    for factor in (1.0, 1 + 1e-12, 1 - 1e-12):
        frame = pl.DataFrame({"v": [v * factor for v in values]})
        write_csv(frame, tmp_path / "stats.csv")
        assert (tmp_path / "stats.csv").read_text().split() == [
            "v",
            "493.64538",
            "388.80013",
            "11.885",
            "0.3",
        ]
        write_json({"v": frame["v"].to_list()}, tmp_path / "stats.json")
        assert read_json(tmp_path / "stats.json") == {"v": [493.645375, 388.800125, 11.885, 0.3]}


@pytest.mark.parametrize("for_people", [True, False])
def test_a_query_is_written_in_the_same_bytes_as_its_frame(tmp_path, for_people):
    import datetime as dt

    df = pl.DataFrame(
        {
            "customer_id": [*HOSTILE, "Zoë", None],
            "amount": [1 / 3, -1.5, 1e-12, None] + [2.0] * (len(HOSTILE) - 2),
            "day": [dt.date(1997, 1, 1)] * (len(HOSTILE) + 2),
            "n": list(range(len(HOSTILE) + 2)),
        }
    )
    write_csv(df, tmp_path / "frame.csv", for_people=for_people)
    write_csv(df.lazy(), tmp_path / "query.csv", for_people=for_people)
    assert (tmp_path / "query.csv").read_bytes() == (tmp_path / "frame.csv").read_bytes()
    empty = df.head(0)  # a header alone (the quarantine of a clean log)
    write_csv(empty, tmp_path / "e1.csv", for_people=for_people)
    write_csv(empty.lazy(), tmp_path / "e2.csv", for_people=for_people)
    assert (tmp_path / "e2.csv").read_bytes() == (tmp_path / "e1.csv").read_bytes()
