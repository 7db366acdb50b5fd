from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from clv_engine.synth import SynthConfig, generate_transactions, main


def test_same_seed_same_log_other_seed_other_log():
    a = generate_transactions(SynthConfig(n_transactions=5_000, seed=3))
    b = generate_transactions(SynthConfig(n_transactions=5_000, seed=3))
    c = generate_transactions(SynthConfig(n_transactions=5_000, seed=4))
    assert a.equals(b)
    assert not a.equals(c)


def test_realistic_shape():
    log = generate_transactions(SynthConfig(n_transactions=200_000, seed=1))
    assert log.height == 200_000
    assert log.columns == ["customer_id", "order_id", "order_date", "quantity", "revenue"]
    per_customer = log.height / log["customer_id"].n_unique()
    assert 6 < per_customer < 16
    assert log["order_date"].min() >= dt.date(2021, 1, 1) and log["order_date"].max() <= dt.date(2023, 12, 31)
    # returns exist and are a small share
    assert 0.005 < (log["revenue"] < 0).mean() < 0.05
    # multi-line orders
    assert log.group_by("order_id").len()["len"].max() > 1
    # several acquisition cohorts: first purchases spread over many months
    first = log.group_by("customer_id").agg(pl.col("order_date").min())
    assert first["order_date"].dt.strftime("%Y-%m").n_unique() >= 6
    # seasonality: December outsells June in each full year
    monthly = log.group_by(pl.col("order_date").dt.month().alias("m")).agg(pl.col("revenue").sum())
    by_month = dict(monthly.rows())
    assert by_month[12] > 1.5 * by_month[6]
    # heavy-tailed spend (wholesale buyers)
    order_value = log.group_by("order_id").agg(pl.col("revenue").sum())["revenue"]
    assert order_value.max() > 20 * order_value.median()


@pytest.mark.slow
def test_ten_million_rows():
    log = generate_transactions(SynthConfig(n_transactions=10_000_000, seed=0))
    assert log.height == 10_000_000
    assert 600_000 < log["customer_id"].n_unique() < 1_400_000


def test_cli_writes_csv_that_ingests(tmp_path, capsys):
    from clv_engine.ingest import ingest
    from clv_engine.params import ColumnMapping, IngestParams

    out = tmp_path / "synth.csv"
    main(["--transactions", "3000", "--seed", "2", "--out", str(out)])
    assert "wrote 3,000 transactions" in capsys.readouterr().err
    cols = ColumnMapping(order_id="order_id", quantity="quantity")
    result = ingest(IngestParams(path=str(out), columns=cols))
    assert result.report["rows_accepted"] == 3000
    assert result.transactions["customer_id"].str.starts_with("C0").all()


def test_growth_guests_and_cancellations():
    config = SynthConfig(
        n_transactions=40_000,
        seed=6,
        acquisition_growth_per_year=1.0,
        acquisition_share=1.0,
        guest_share=0.2,
        cancellation_rate=0.05,
    )
    log = generate_transactions(config)
    assert log.height == 40_000
    # guests: lines without a customer id, about the share asked for
    assert 0.1 < log["customer_id"].null_count() / log.height < 0.3
    # cancellations: negated lines under "C" + the order id
    cancelled = log.filter(pl.col("order_id").str.starts_with("C"))
    assert cancelled.height > 0 and (cancelled["revenue"] <= 0).all() and (cancelled["quantity"] < 0).all()
    # growth: more customers are first seen in the last year than in the first
    first = log.drop_nulls("customer_id").group_by("customer_id").agg(pl.col("order_date").min())
    years = first["order_date"].dt.year().value_counts().sort("order_date")
    assert years["count"][-1] > 2 * years["count"][0]


@pytest.mark.parametrize("share", [0.6, 0.95, 1.0])
def test_every_order_falls_inside_the_period_whatever_the_acquisition_share(share):
    # Cohorts spread over the whole period end after it (the last cohort's window runs on
    # past the end): a customer born after the end must not be met.
    config = SynthConfig(15_000, 4, dt.date(2023, 6, 1), dt.date(2023, 12, 31), acquisition_share=share)
    log = generate_transactions(config)
    dates = log["order_date"].cast(pl.Date)
    assert log.height == 15_000
    assert dates.min() >= config.start and dates.max() <= config.end
