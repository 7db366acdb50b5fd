"""On the real CDNOW log: forced reruns give the same bytes; no leakage at two cutoffs.

Small model settings keep it to a few minutes; the code path is the production one.
"""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import polars as pl
import pytest
import yaml
from tests.conftest import BUNDLED_LOG, ROOT
from tests.test_pipeline_e2e import _merge, _output_hashes, copy_champion_folder, dvc

from clv_engine.dataset import customer_rows, training_set
from clv_engine.evaluation import fit_clv
from clv_engine.ingest import ingest
from clv_engine.orders import build_orders
from clv_engine.params import load_params, parse_params
from clv_engine.windows import select_windows

pytestmark = pytest.mark.slow

FAST = {
    "windows": {"lookback_months": [3, 6], "search_iterations": 30, "search_max_customers": 5000},
    "model": {"iterations": 120, "learning_rate": 0.1, "early_stopping_rounds": 20},
    "cluster": {"k_max": 4, "max_fit_customers": 5000},
    "explain": {"interaction_sample": 50, "plot_sample": 1000},
    "evaluate": {"origins": 2},
}


def test_two_forced_runs_on_cdnow_give_identical_outputs(tmp_path):
    for name in ("src", "stages", "templates"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    copy_champion_folder(tmp_path)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    shutil.copy(BUNDLED_LOG, tmp_path / "data" / "raw" / BUNDLED_LOG.name)
    params = _merge(yaml.safe_load((ROOT / "params.yaml").read_text()), FAST)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(tmp_path, "init", "--no-scm", "-q")
    dvc(tmp_path, "repro")
    first = _output_hashes(tmp_path)
    dvc(tmp_path, "repro", "--force")
    second = _output_hashes(tmp_path)
    assert first == second, {k for k in first if first[k] != second.get(k)}
    assert len(first) >= 20


@pytest.mark.parametrize("as_of", [dt.date(1997, 12, 31), dt.date(1998, 3, 31)])
def test_cdnow_predictions_at_a_cutoff_do_not_see_later_orders(as_of):
    base = load_params(ROOT / "params.yaml")
    params = parse_params(_merge(yaml.safe_load((ROOT / "params.yaml").read_text()), FAST))
    orders = build_orders(ingest(base.ingest).transactions)

    def predict(log: pl.DataFrame) -> pl.DataFrame:
        choice, _ = select_windows(log, as_of, params)
        model = fit_clv(
            training_set(log, as_of, choice.lookback_months, choice.horizon_months, params).rows, params
        )
        rows, _ = customer_rows(
            log, as_of, choice.lookback_months, choice.horizon_months, params.features, params.lifecycle
        )
        return rows.select("customer_id").with_columns(predicted=model.predict(rows))

    full = predict(orders)
    truncated = predict(orders.filter(pl.col("order_date") <= as_of))
    assert full["customer_id"].equals(truncated["customer_id"])
    assert np.array_equal(full["predicted"].to_numpy(), truncated["predicted"].to_numpy())
