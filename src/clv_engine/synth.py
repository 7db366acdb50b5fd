"""Seeded synthetic transaction logs of any size, for tests, benchmarks and trying the engine.

The generative story follows the textbook models, with the mess of real logs on top:

- customers are acquired in several cohorts (uniform inside each cohort's window, cut at
  the end of the period), or,
  with ``acquisition_growth_per_year``, continuously (a new cohort every month) at a rate
  that grows (or, when negative, declines) by that share a year and follows the season;
- each buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)`` per day and,
  after each purchase, drops out for good with probability ``p ~ Beta(a, b)`` (BG/NBD,
  Fader, Hardie & Lee 2005);
- demand is seasonal: the process is thinned by ``1 + A cos(2 pi (day_of_year - peak) / 365)``
  (a December peak by default), which BTYD models cannot see;
- an order's value is ``Gamma(p_spend, nu)`` with a customer scale ``nu ~ Gamma(q, gamma)``
  (Gamma-Gamma, Fader, Hardie & Lee 2005b); a small share of wholesale customers buy
  orders many times larger;
- an order has one or more lines (same order id and day; revenue and quantity split);
- some orders are partly returned a few days later (a negative line with its own id);
- with ``cancellation_rate``, some orders are cancelled in full: every line again, negated,
  under the order id prefixed with ``C`` (the convention of many shop exports);
- with ``guest_share``, that share of buyers check out as guests: their lines have no
  customer id (an empty cell), as anonymous orders do in real exports.

Output columns: customer_id (text with leading zeros, "C00000001"), order_id, order_date
(ISO date), quantity, revenue. Rows are sorted by order_date, order_id. The same
(config, seed) always gives the same log, and ``n_transactions`` rows exactly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass, field

import numpy as np
import polars as pl

__all__ = ["SynthConfig", "generate_transactions", "main"]


@dataclass(frozen=True)
class SynthConfig:
    """Knobs of the generator; rates are per day, money in currency units."""

    n_transactions: int
    seed: int = 0
    start: dt.date = dt.date(2021, 1, 1)
    end: dt.date = dt.date(2023, 12, 31)
    # Acquisition: this many cohorts, spread over the first `acquisition_share` of the period.
    n_cohorts: int = 6
    acquisition_share: float = 0.6
    # BG/NBD purchase rate lambda ~ Gamma(r, scale 1/alpha) and dropout p ~ Beta(a, b).
    r: float = 0.9
    alpha: float = 40.0
    a: float = 1.0
    b: float = 6.0
    # Continuous acquisition growing by this share a year (None: the cohorts above).
    acquisition_growth_per_year: float | None = None
    # Seasonal thinning: amplitude and peak day of the year (350 = mid December).
    season_amplitude: float = 0.4
    season_peak_day: int = 350
    # Gamma-Gamma spend: order value ~ Gamma(p_spend, scale 1/nu), nu ~ Gamma(q, scale 1/gamma).
    p_spend: float = 6.0
    q: float = 4.0
    gamma: float = 15.0
    wholesale_share: float = 0.005
    wholesale_multiplier: float = 25.0
    # Extra lines per order ~ Poisson(extra_lines_mean); partial returns per order.
    extra_lines_mean: float = 0.6
    return_rate: float = 0.03
    cancellation_rate: float = 0.0
    guest_share: float = 0.0
    batch_customers: int = field(default=200_000, repr=False)

    def __post_init__(self) -> None:
        if self.n_transactions < 1:
            raise ValueError(f"n_transactions must be >= 1, got {self.n_transactions}")
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        for name in ("cancellation_rate", "guest_share", "return_rate", "wholesale_share"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.acquisition_growth_per_year is not None and self.acquisition_growth_per_year <= -1.0:
            raise ValueError("acquisition_growth_per_year must be above -1 (a decline of less than 100%)")


def generate_transactions(config: SynthConfig) -> pl.DataFrame:
    """A log of exactly ``config.n_transactions`` rows (see the module docstring)."""
    rng = np.random.default_rng(config.seed)
    horizon_days = (config.end - config.start).days
    cohort_starts = np.sort(rng.uniform(0, config.acquisition_share * horizon_days, config.n_cohorts))
    cohort_weights = rng.dirichlet(np.full(config.n_cohorts, 3.0))
    cohort_span = config.acquisition_share * horizon_days / config.n_cohorts

    # About 10 lines per customer: size batches so a small log needs one small batch.
    batch_size = min(config.batch_customers, max(100, config.n_transactions // 8))
    batches: list[pl.DataFrame] = []
    rows, first_customer = 0, 0
    while rows < config.n_transactions:
        batch = _customer_batch(
            config, rng, batch_size, first_customer, horizon_days, cohort_starts, cohort_weights, cohort_span
        )
        batches.append(batch)
        rows += batch.height
        first_customer += batch_size
    log = pl.concat(batches).head(config.n_transactions)
    customer_id = pl.lit("C") + pl.col("customer").cast(pl.String).str.zfill(8)
    if config.guest_share > 0:
        # A seeded share of buyers, by number: the same buyers whatever the batch size.
        guest = (pl.col("customer").hash(config.seed) % 1_000_000) < int(config.guest_share * 1_000_000)
        customer_id = pl.when(guest).then(None).otherwise(customer_id)
    return (
        log.with_columns(
            customer_id=customer_id,
            order_date=pl.lit(config.start) + pl.duration(days=pl.col("day")),
        )
        .sort(["day", "order_id", "line"])
        .select("customer_id", "order_id", "order_date", "quantity", "revenue")
    )


def _customer_batch(
    config: SynthConfig,
    rng: np.random.Generator,
    m: int,
    first_customer: int,
    horizon_days: int,
    cohort_starts: np.ndarray,
    cohort_weights: np.ndarray,
    cohort_span: float,
) -> pl.DataFrame:
    """Lines of ``m`` customers, sorted by customer then time."""
    if config.acquisition_growth_per_year is None:
        cohort = rng.choice(config.n_cohorts, size=m, p=cohort_weights)
        birth = cohort_starts[cohort] + rng.uniform(0, cohort_span, m)
    else:
        birth = _continuous_births(config, rng, m, horizon_days)
    lam = rng.gamma(config.r, 1.0 / config.alpha, m)
    p_drop = rng.beta(config.a, config.b, m)
    nu = rng.gamma(config.q, 1.0 / config.gamma, m)
    nu = np.where(rng.random(m) < config.wholesale_share, nu / config.wholesale_multiplier, nu)

    # Purchase rounds: the first purchase at birth, then thinned Poisson arrivals with
    # dropout after each accepted purchase. Vectorised over the customers still alive.
    peak = 1.0 + config.season_amplitude
    # A cohort's window may run past the end (acquisition_share near 1): a customer born
    # after it is never met (no order outside the period); the draws stay the same.
    met = birth <= horizon_days
    cust_parts, time_parts = [np.arange(m)[met]], [birth[met]]
    idx = np.arange(m)[rng.random(m) >= p_drop]
    t = birth[idx]
    while idx.size:
        t = t + rng.exponential(1.0, idx.size) / (lam[idx] * peak)
        inside = t <= horizon_days
        idx, t = idx[inside], t[inside]
        doy = (config.start.timetuple().tm_yday + t) % 365.25
        season = 1.0 + config.season_amplitude * np.cos(2 * np.pi * (doy - config.season_peak_day) / 365.25)
        accepted = rng.random(idx.size) < season / peak
        cust_parts.append(idx[accepted])
        time_parts.append(t[accepted])
        survives = ~accepted | (rng.random(idx.size) >= p_drop[idx])
        idx, t = idx[survives], t[survives]

    cust = np.concatenate(cust_parts)
    day = np.floor(np.concatenate(time_parts)).astype(np.int64)
    order = np.lexsort((day, cust))
    cust, day = cust[order], day[order]
    n_orders = cust.size
    value = rng.gamma(config.p_spend, 1.0 / nu[cust])

    # Split each order into lines.
    n_lines = 1 + rng.poisson(config.extra_lines_mean, n_orders)
    order_no = np.repeat(np.arange(n_orders), n_lines)
    weight = rng.exponential(1.0, order_no.size)
    weight /= np.bincount(order_no, weights=weight)[order_no]
    line = np.arange(order_no.size) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    lines = pl.DataFrame(
        {
            "customer": (first_customer + cust[order_no]).astype(np.int64),
            "order_id": order_no,
            "day": day[order_no],
            "line": line,
            "quantity": (1 + rng.poisson(0.4, order_no.size)).astype(np.float64),
            "revenue": np.round(value[order_no] * weight, 2),
        }
    )

    # Partial returns: a negative line some days later, inside the observation period.
    returned = np.flatnonzero(rng.random(n_orders) < config.return_rate)
    return_day = day[returned] + rng.integers(1, 31, returned.size)
    keep = return_day <= horizon_days
    returned, return_day = returned[keep], return_day[keep]
    returns = pl.DataFrame(
        {
            "customer": (first_customer + cust[returned]).astype(np.int64),
            "order_id": n_orders + np.arange(returned.size),
            "day": return_day,
            "line": np.zeros(returned.size, dtype=np.int64),
            "quantity": np.full(returned.size, -1.0),
            "revenue": -np.round(value[returned] * rng.uniform(0.2, 1.0, returned.size), 2),
        }
    )
    prefix = f"B{first_customer:09d}-"
    order_ids = pl.lit(prefix) + pl.col("order_id").cast(pl.String).str.zfill(9)
    parts = [
        lines.with_columns(order_id=order_ids),
        returns.with_columns(order_id=order_ids),
    ]
    if config.cancellation_rate > 0:
        # Full cancellations: each line of the order again, negated, the same day or up to
        # two days later (inside the period), under "C" + the order id.
        cancelled = np.flatnonzero(rng.random(n_orders) < config.cancellation_rate)
        delay = pl.DataFrame({"order_id": cancelled, "_delay": rng.integers(0, 3, cancelled.size)})
        parts.append(
            lines.join(delay, on="order_id")
            .with_columns(
                day=pl.col("day") + pl.col("_delay"),
                quantity=-pl.col("quantity"),
                revenue=-pl.col("revenue"),
                order_id=pl.lit("C") + order_ids,
            )
            .filter(pl.col("day") <= horizon_days)
            .drop("_delay")
        )
    return pl.concat(parts).sort(["customer", "day", "order_id", "line"])


def _continuous_births(
    config: SynthConfig, rng: np.random.Generator, m: int, horizon_days: int
) -> np.ndarray:
    """Acquisition days: density (1 + growth)^(years) x the season, over the acquisition span."""
    span = max(1, int(config.acquisition_share * horizon_days))
    day = np.arange(span)
    doy = (config.start.timetuple().tm_yday + day) % 365.25
    season = 1.0 + config.season_amplitude * np.cos(2 * np.pi * (doy - config.season_peak_day) / 365.25)
    growth = config.acquisition_growth_per_year
    assert growth is not None  # only a log with a growth rate has continuous births
    weight = (1.0 + float(growth)) ** (day / 365.25) * season
    return rng.choice(span, size=m, p=weight / weight.sum()) + rng.uniform(0, 1, m)


def main(argv: list[str] | None = None) -> None:
    """CLI: ``clv-synth --transactions 1000000 --seed 7 --out data/raw/synth.csv``."""
    from .io import write_csv, write_parquet

    parser = argparse.ArgumentParser(prog="clv-synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, required=True, help="number of rows to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=SynthConfig.start)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=SynthConfig.end)
    parser.add_argument("--out", required=True, help="output file, .csv or .parquet")
    args = parser.parse_args(argv)
    if not args.out.endswith((".csv", ".parquet")):
        parser.error("--out must end in .csv or .parquet")
    config = SynthConfig(n_transactions=args.transactions, seed=args.seed, start=args.start, end=args.end)
    log = generate_transactions(config)
    (write_parquet if args.out.endswith(".parquet") else write_csv)(log, args.out)
    customers = log["customer_id"].n_unique()
    print(f"wrote {log.height:,} transactions of {customers:,} customers to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
