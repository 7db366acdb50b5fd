"""DVC stage cluster: behavioural clusters, value tiers, summaries and a picture."""

import argparse

import polars as pl

from clv_engine.clustering import cluster_customers, value_tiers
from clv_engine.io import write_csv, write_json, write_parquet
from clv_engine.outputs import round_for_people
from clv_engine.params import load_params
from clv_engine.plots import cluster_profiles_png
from clv_engine.segments import aov_thresholds
from clv_engine.stage import progress, run_stage
from clv_engine.summaries import cluster_summary, tier_rankings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scores", required=True)
    parser.add_argument(
        "--assignments", required=True, help="customer_id, cluster_id, probability, tier (Parquet)"
    )
    parser.add_argument("--summary", required=True, help="cluster_summary.csv")
    parser.add_argument("--rankings", required=True, help="clv_cluster_rankings.csv (value tiers)")
    parser.add_argument("--report", required=True)
    parser.add_argument("--figure", required=True)


def main(args: argparse.Namespace) -> str:
    params = load_params(args.params)
    c = params.cluster
    scored = pl.read_parquet(args.scores)
    progress(f"clustering {scored.height:,} customers ({c.method}, K from {c.k_min} to {c.k_max})")
    result = cluster_customers(scored, c, params.seed)
    for note in result.notes:
        progress(note)
    tiers = value_tiers(scored, c.value_tiers, params.seed)
    thresholds = aov_thresholds(scored, params.segments)
    summary = cluster_summary(scored, result.assignments, tiers, thresholds, c.features)
    write_parquet(result.assignments.join(tiers, on="customer_id").sort("customer_id"), args.assignments)
    write_csv(round_for_people(summary), args.summary, for_people=True)
    write_csv(round_for_people(tier_rankings(scored, tiers)), args.rankings, for_people=True)
    cluster_profiles_png(summary, c.features, args.figure)
    # Named by what it is, so that `dvc metrics diff` never subtracts a BIC from a silhouette.
    criterion = "bic_by_k" if c.method == "gmm" else "silhouette_by_k"
    write_json(
        {
            "method": c.method,
            "k": result.k,
            criterion: {str(k): round(v, 4) for k, v in result.criterion.items()},
            "notes": result.notes,
            "cluster_sizes": dict(
                zip(*summary.select("cluster_id", "customers").to_dict(as_series=False).values(), strict=True)
            ),
        },
        args.report,
    )
    return f"{result.k} behavioural clusters, {tiers['value_tier'].n_unique()} value tiers"


if __name__ == "__main__":
    run_stage("cluster", add_arguments, main)
