"""`stratopt correlate shard|merge`: the correlation stages without Snakemake."""

from __future__ import annotations

import argparse
import json

from stratopt.correlation.settings import DEFAULTS, CorrelationSettings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("correlate", help="all-pairs correlation analysis in shards")
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")

    shard = steps.add_parser("shard", help="compute one shard's tiles and write its summary")
    shard.add_argument("--shard", type=int, required=True, help="this shard's number, 0..K-1")
    shard.add_argument(
        "--shards", type=int, default=DEFAULTS["shards"], help="K, the number of shards"
    )
    shard.add_argument(
        "--backend", choices=["numpy", "cupy"], default=DEFAULTS["backend"], help="array module"
    )
    shard.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default=DEFAULTS["dtype"],
        help="precision of the correlations",
    )
    shard.add_argument(
        "--tile", type=int, default=DEFAULTS["tile"], help="strategies per tile side"
    )
    shard.add_argument(
        "--bins", type=int, default=DEFAULTS["bins"], help="histogram bins over -1..1"
    )
    shard.add_argument(
        "--thresholds",
        type=lambda s: [float(x) for x in s.split(",")],
        default=DEFAULTS["thresholds"],
        help="comma-separated |r| thresholds",
    )
    shard.add_argument(
        "--top-pairs",
        type=int,
        default=DEFAULTS["top_pairs"],
        help="the most correlated pairs kept",
    )
    shard.add_argument(
        "--near-duplicate",
        type=float,
        default=DEFAULTS["near_duplicate"],
        help="|r| from which two strategies count as near duplicates",
    )
    shard.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of the compiled tile reduction (the same summary whatever their number)",
    )
    shard.add_argument("input", help="matrix Parquet (prepared.parquet or matrix.parquet)")
    shard.add_argument("output", help="shard summary Parquet (correlation/shard_{i}.parquet)")
    shard.set_defaults(func=_shard)

    merge = steps.add_parser("merge", help="merge all shard summaries into correlation.json")
    merge.add_argument(
        "--matrix", required=True, help="the matrix the shards were computed from (for names)"
    )
    merge.add_argument("output", help="correlation.json")
    merge.add_argument("shards", nargs="+", help="every shard_{i}.parquet")
    merge.set_defaults(func=_merge)


def _shard(args: argparse.Namespace) -> int:
    from stratopt.correlation.jobs import run_shard

    settings = CorrelationSettings(
        shards=args.shards,
        backend=args.backend,
        dtype=args.dtype,
        tile=args.tile,
        bins=args.bins,
        thresholds=tuple(args.thresholds),
        top_pairs=args.top_pairs,
        near_duplicate=args.near_duplicate,
    )
    run_shard(args.input, args.output, args.shard, settings, threads=max(1, args.threads))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from stratopt.correlation.jobs import run_merge

    result = run_merge(args.shards, args.matrix, args.output)
    brief = {k: result[k] for k in ("n_strategies", "pairs", "shards")}
    brief["near_duplicate_groups"] = result["near_duplicates"]["groups"]
    print(json.dumps(brief))
    return 0
