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
