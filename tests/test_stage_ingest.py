"""The ingest stage as DVC runs it: exit codes, messages, outputs."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def run_stage(tmp_path, log_text: str, extra_params: str = ""):
    (tmp_path / "log.csv").write_text(log_text)
    (tmp_path / "params.yaml").write_text(f"ingest:\n  path: {tmp_path / 'log.csv'}\n{extra_params}")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        str(ROOT / "stages" / "ingest.py"),
        "--params",
        str(tmp_path / "params.yaml"),
        "--transactions",
        str(out / "transactions.parquet"),
        "--quarantine",
        str(out / "quarantine.csv"),
        "--report",
        str(out / "ingest.json"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path), out


def test_good_file_writes_all_outputs(tmp_path):
    proc, out = run_stage(
        tmp_path,
        "customer_id,order_date,revenue\nA,1997-01-01,1\nB,bad,2\nC,1997-01-02,3\n",
        "  max_reject_share: 0.5\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert "[ingest] done in" in proc.stderr and "2 rows accepted, 1 quarantined" in proc.stderr
    report = json.loads((out / "ingest.json").read_text())
    assert report["rows_read"] == 3 and report["quarantine_reasons"]["unparseable_order_date"] == 1
    assert (out / "quarantine.csv").read_text().splitlines()[1].startswith("2,unparseable_order_date,B,bad,2")


def test_file_level_error_exits_2_with_message_and_no_outputs(tmp_path):
    proc, out = run_stage(tmp_path, "customer_id,order_date,revenue\n")
    assert proc.returncode == 2
    assert "[ingest] error:" in proc.stderr and "has a header but no data rows" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_params_exit_2(tmp_path):
    proc, _out = run_stage(tmp_path, "customer_id,order_date,revenue\nA,1997-01-01,1\n", "  colour: red\n")
    assert proc.returncode == 2 and "unknown key ingest.colour" in proc.stderr
