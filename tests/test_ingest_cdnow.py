from __future__ import annotations

from tests.conftest import BUNDLED_LOG, ROOT

from clv_engine.ingest import ingest
from clv_engine.params import load_params


def test_bundled_cdnow_log_ingests_completely():
    params = load_params(ROOT / "params.yaml").ingest
    assert (ROOT / params.path) == BUNDLED_LOG
    result = ingest(params.__class__(**{**params.__dict__, "path": str(BUNDLED_LOG)}))
    report = result.report
    assert report["rows_read"] == 69_659
    assert report["rows_accepted"] == 69_659
    assert report["customers"] == 23_570
    assert (report["first_order_date"], report["last_order_date"]) == ("1997-01-01", "1998-06-30")
    assert report["duplicate_rows_kept"] == 255
    ids = result.transactions["customer_id"]
    assert ids.min() == "00001" and ids.str.len_chars().eq(5).all()


def test_cdnow_read_in_batches_is_the_whole_file():
    # 255 repeated lines, many of them in another batch than the line they repeat.
    params = load_params(ROOT / "params.yaml").ingest
    for duplicates in ("keep", "quarantine"):
        p = params.__class__(**{**params.__dict__, "path": str(BUNDLED_LOG), "duplicates": duplicates})
        whole, parts = ingest(p, batch_rows=10**8), ingest(p, batch_rows=5_000)
        assert parts.transactions.equals(whole.transactions)
        assert parts.quarantine.equals(whole.quarantine)
        assert parts.report == whole.report
