"""Champion and challenger: which model is in use, and when promotion is recommended."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from clv_engine.governance import BUNDLE, METADATA, TRAINING, ChampionError, model_in_use, recommend
from clv_engine.params import GovernanceParams

RULES = GovernanceParams(min_gini_gain=0.01, min_abs_bias_gain=0.02)
BACKTEST = {
    "count": 4,
    "model": {"mean_gini": 0.75, "mean_abs_bias": 0.05},
    "btyd": {"mean_gini": 0.70, "mean_abs_bias": 0.10},
}
NO_DRIFT = {"retrain_recommended": False, "reasons": []}
DRIFT = {"retrain_recommended": True, "reasons": ["recency_days drifted (PSI 0.40)"]}


def _table(champion: list[tuple[float, float]], challenger: list[tuple[float, float]]) -> pl.DataFrame:
    """Origins with (gini, bias) of each side; coverage 0.9 throughout."""
    rows = []
    for k, ((g1, b1), (g2, b2)) in enumerate(zip(champion, challenger, strict=True)):
        rows.append(
            {
                "cutoff": dt.date(2023, 7 + k, 28),
                "customers": 100,
                "bias_champion": b1,
                "gini_champion": g1,
                "coverage_champion": 0.9,
                "bias_challenger": b2,
                "gini_challenger": g2,
                "coverage_challenger": 0.9,
            }
        )
    return pl.DataFrame(rows)


def test_the_latest_model_is_in_use_until_a_champion_is_promoted(tmp_path):
    champion = tmp_path / "models" / "champion"
    champion.mkdir(parents=True)
    latest = (tmp_path / "latest.joblib", tmp_path / "training.parquet", tmp_path / "metadata.json")
    chosen = model_in_use(champion, *latest)
    assert (chosen.scored_with, chosen.bundle, chosen.training, chosen.metadata) == ("latest", *latest)
    for name in (BUNDLE, TRAINING, METADATA):
        (champion / name).write_bytes(b"x")
    chosen = model_in_use(champion, *latest)
    assert (chosen.scored_with, chosen.bundle, chosen.training, chosen.metadata) == (
        "champion",
        champion / BUNDLE,
        champion / TRAINING,
        champion / METADATA,
    )


def test_a_champion_known_only_by_its_dvc_file_is_a_clear_error(tmp_path):
    champion = tmp_path / "champion"
    champion.mkdir()
    (champion / f"{BUNDLE}.dvc").write_text("outs: []\n")
    (champion / f"{TRAINING}.dvc").write_text("outs: []\n")
    (champion / METADATA).write_text("{}")
    with pytest.raises(ChampionError, match="dvc pull"):
        model_in_use(champion, tmp_path / "b.joblib", tmp_path / "t.parquet", tmp_path / "m.json")


def test_without_a_champion_promotion_is_recommended_when_the_backtest_beats_the_textbook():
    yes, reasons, means = recommend("latest", False, None, "", NO_DRIFT, BACKTEST, RULES)
    assert yes and means is None
    assert "no model has been promoted" in reasons[0] and "0.750" in reasons[1]
    losing = BACKTEST | {"model": {"mean_gini": 0.65, "mean_abs_bias": 0.05}}
    no, reasons, _ = recommend("latest", False, None, "", NO_DRIFT, losing, RULES)
    assert not no and "does not beat" in reasons[1]
    no, reasons, _ = recommend("latest", False, None, "", NO_DRIFT, None, RULES)
    assert not no and "no backtest" in reasons[1]


def test_the_champion_itself_is_never_recommended():
    no, reasons, _ = recommend("champion", True, None, "", DRIFT, BACKTEST, RULES)
    assert not no and "the challenger is the champion" in reasons[0]


def test_a_better_challenger_is_recommended_with_its_margin():
    table = _table([(0.70, 0.10), (0.72, -0.08)], [(0.74, 0.05), (0.75, -0.04)])
    yes, reasons, means = recommend("champion", False, table, "", NO_DRIFT, BACKTEST, RULES)
    assert yes
    assert means["champion"]["mean_gini"] == pytest.approx(0.71)
    assert means["challenger"]["mean_abs_bias"] == pytest.approx(0.045)
    assert "the challenger is better over 2 backtest origins" in reasons[0] and "+0.035" in reasons[0]


def test_a_worse_challenger_keeps_the_champion_even_with_drift():
    table = _table([(0.75, 0.05)], [(0.70, 0.05)])
    no, reasons, _ = recommend("champion", False, table, "", DRIFT, BACKTEST, RULES)
    assert not no
    assert reasons[0].startswith("drift found") and "keep the champion" in reasons[1]


def test_drift_recommends_when_the_challenger_is_no_worse():
    table = _table([(0.75, 0.05)], [(0.752, 0.045)])  # within both thresholds
    no, reasons, _ = recommend("champion", False, table, "", NO_DRIFT, BACKTEST, RULES)
    assert not no and "within the thresholds" in reasons[0]
    yes, reasons, _ = recommend("champion", False, table, "", DRIFT, BACKTEST, RULES)
    assert yes and "recency_days" in reasons[0]


def test_a_gain_on_one_metric_bought_with_a_loss_on_the_other_is_not_better():
    table = _table([(0.70, 0.05)], [(0.75, 0.12)])  # +0.05 Gini, 7 points more bias
    no, reasons, _ = recommend("champion", False, table, "", NO_DRIFT, BACKTEST, RULES)
    assert not no and "keep the champion" in reasons[0]


def test_no_origin_since_the_champion_leaves_drift_as_the_only_judge():
    empty = _table([], [])
    note = "no comparison yet: its first forecast ends on 2024-03-31"
    no, reasons, means = recommend("champion", False, empty, note, NO_DRIFT, BACKTEST, RULES)
    assert not no and means is None and reasons == [note]
    yes, reasons, _ = recommend("champion", False, empty, note, DRIFT, BACKTEST, RULES)
    assert yes and reasons[1] == note
