"""`stratopt bench profiling`: what running a stage under py-spy costs, per mode.

Each repetition is a fresh Python (stratopt.bench.timing.run_isolated), like a
rule script: it imports the stage and calls pipeline.run_rule with a plain
RuleContext built as the rule builds it, with profiling off (`plain`), with
py-spy attached to the process (`attach`), and with the stage launched in a
child under py-spy (`launch`). The modes alternate within each repetition;
the overhead of a mode is its median wall time minus the plain median, over
the plain median.

Stages measured (the pipeline's own, on its own config, default the
production twin): ingest (CSV -> matrix.parquet), prepare (DuckDB: metrics,
ULTA, prepared.parquet), correlation_shard (shard 0), optimize (one
algorithm, every size of the config). Their inputs are made once, untimed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from stratopt import contracts as C
from stratopt.bench.timing import Summary, compare, run_isolated

ROOT = Path(__file__).resolve().parents[3]
TWIN_CSV = ROOT / C.fill(C.TWIN_CSV, seed=20250726, n=25544)
SAMPLE_CSV = ROOT.parent / "shared" / "data" / "sensex_real_sample_500.csv"
STAGES = ("ingest", "prepare", "correlation_shard", "optimize")
MODES = ("plain", "attach", "launch")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("profiling", help="stages with and without py-spy: the overhead")
    parser.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="the CSV ingest reads (default: the production twin under results/twin-data "
        "if it was generated, else the real 500-strategy sample)",
    )
    parser.add_argument(
        "--config", type=Path, default=ROOT / "config" / "config.yaml", help="the run's config"
    )
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated, of {', '.join(STAGES)}"
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated, of plain, attach, launch"
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (median)")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--algorithm", default="sa", help="the optimize stage's algorithm")
    parser.add_argument("--sizes", help="portfolio sizes MIN-MAX (default: the config's)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def load_config(path: str, rate: int, sizes: str | None) -> dict[str, Any]:
    """The run's config with the schema's defaults filled in, as Snakemake gives it."""
    import yaml
    from snakemake.utils import validate

    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    validate(config, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    config["dataset"] = "profiling-bench"
    config["profiling"] = {"enabled": False, "rate": rate}
    if sizes:
        lo, hi = (int(x) for x in sizes.split("-"))
        config["optimize"].update(min_size=lo, max_size=hi)
    return config


def stage_context(stage: str, work: Path, source: str, config: dict, algorithm: str) -> Any:
    """(stage function, RuleContext) with the rule's inputs, outputs, wildcards and log."""
    from stratopt.runtime import rule_params
    from stratopt.runtime.context import NamedList, RuleContext, plain_namedlist

    def ctx(rule: str, inputs: Any, outputs: Any, wildcards: dict | None = None) -> RuleContext:
        return RuleContext(
            rule=rule,
            input=plain_namedlist(inputs) if isinstance(inputs, dict) else NamedList(inputs),
            output=plain_namedlist(outputs) if isinstance(outputs, dict) else NamedList(outputs),
            wildcards=plain_namedlist(wildcards or {}),
            params=plain_namedlist(rule_params.for_rule(rule, config)),
            log=NamedList([str(C.LOG.path(work, job=rule))]),
            config=config,
            threads=int(config["optimize"]["workers"]) if rule == "optimize" else 1,
        )

    def at(output: C.Output, **wildcards: Any) -> str:
        return str(output.path(work, **wildcards))

    if stage == "ingest":
        from stratopt.stages.ingest import run as ingest_rule

        return ingest_rule, ctx(
            "ingest", [source], {"matrix": at(C.MATRIX), "report": at(C.INGEST)}
        )
    if stage == "load_db":
        from stratopt.stages.load_db import run as load_db_stage

        return load_db_stage, ctx(
            "load_db",
            {"matrix": at(C.MATRIX)},
            {"db": at(C.LOAD_DB_FILE), "report": at(C.LOAD)},
        )
    if stage == "prepare":
        from stratopt.stages.prepare import run as prepare_stage

        outputs = {
            "db": at(C.PREPARE_DB_FILE),
            "prepared": at(C.PREPARED),
            "metrics_csv": at(C.METRICS_CSV),
            "metrics_parquet": at(C.METRICS),
            "inversion_md": at(C.INVERSION_MD),
            "inversion_parquet": at(C.INVERSION),
            "report": at(C.PREPARE),
        }
        inputs = {"db": at(C.LOAD_DB_FILE), "load": at(C.LOAD)}
        return prepare_stage, ctx("prepare", inputs, outputs)
    if stage == "correlation_shard":
        from stratopt.stages.correlation_shard import run as shard_stage

        return shard_stage, ctx(
            "correlation_shard",
            [at(C.PREPARED)],
            [at(C.CORRELATION_SHARD, shard=0)],
            {"shard": "0"},
        )
    if stage == "optimize":
        from stratopt.stages.optimize import run as optimize_rule

        # a finished run would be resumed from its checkpoints: start clean each time
        for old in C.CHECKPOINT.glob(work):
            if old.parent.name == algorithm:
                old.unlink()
        return optimize_rule, ctx(
            "optimize",
            [at(C.PREPARED)],
            [at(C.RUN, algorithm=algorithm)],
            {"algorithm": algorithm},
        )
    raise ValueError(f"unknown stage {stage!r}")


def run_stage(
    stage: str, mode: str, workdir: str, source: str, config: dict, algorithm: str
) -> None:
    """One rule run, as a rule script does it (in the benchmark's child)."""
    from stratopt.runtime.rule import run_rule

    os.environ["STRATOPT_PROFILE"] = "0" if mode == "plain" else "1"
    os.environ["STRATOPT_PROFILE_MODE"] = "attach" if mode == "plain" else mode
    os.environ["STRATOPT_PROFILE_DIR"] = str(Path(workdir) / C.PROFILE_SVG.folder)
    fn, ctx = stage_context(stage, Path(workdir), source, config, algorithm)
    (Path(workdir) / C.LOG.folder).mkdir(parents=True, exist_ok=True)
    run_rule(ctx, fn)


def overhead_rows(
    results: dict[str, Summary], stages: list[str], modes: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for stage in stages:
        plain = results[f"{stage} plain"]
        row: dict[str, Any] = {
            "stage": stage,
            "plain_wall_s": plain.wall_s,
            "plain_min_s": min(x.wall_s for x in plain.samples),
        }
        for mode in modes:
            if mode == "plain":
                continue
            prof = results[f"{stage} {mode}"]
            row[f"{mode}_wall_s"] = prof.wall_s
            row[f"{mode}_extra_s"] = prof.wall_s - plain.wall_s
            row[f"{mode}_overhead_pct"] = 100.0 * (prof.wall_s - plain.wall_s) / plain.wall_s
            # the fastest runs: less disturbed by other work on a shared machine
            fastest = min(x.wall_s for x in prof.samples)
            row[f"{mode}_min_s"] = fastest
            row[f"{mode}_min_overhead_pct"] = (
                100.0 * (fastest - row["plain_min_s"]) / row["plain_min_s"]
            )
        rows.append(row)
    return rows


def _run(args: argparse.Namespace) -> int:
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [s for s in stages if s not in STAGES] + [m for m in modes if m not in MODES]
    if unknown:
        raise SystemExit(f"unknown stage or mode: {', '.join(unknown)}")
    if "plain" not in modes:
        modes.insert(0, "plain")
    csv = args.csv or (TWIN_CSV if TWIN_CSV.exists() else SAMPLE_CSV)
    config = load_config(str(args.config), args.rate, args.sizes)
    target = f"{__name__}:run_stage"
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="stratopt-bench-profiling-") as tmp:
        common = {"workdir": tmp, "source": str(csv), "config": config, "algorithm": args.algorithm}
        for stage in ("ingest", "load_db", "prepare"):  # the inputs, once, untimed
            run_isolated(target, {**common, "stage": stage, "mode": "plain"})
        targets = {
            f"{stage} {mode}": (target, {**common, "stage": stage, "mode": mode})
            for stage in stages
            for mode in modes
        }
        results = compare(targets, repeats=args.repeats)
    rows = overhead_rows(results, stages, modes)
    load = os.getloadavg()
    print(f"load average {load_start[0]:.2f} at the start ({os.cpu_count()} CPUs)")
    print(
        f"{csv.name}; py-spy at {args.rate} Hz; {args.repeats} runs each, modes alternating; "
        f"medians of whole run_rule calls (stage imports included); load average {load[0]:.2f} "
        "at the end"
    )
    head = f"{'stage':<18} {'plain s':>8}"
    for mode in modes[1:]:
        head += f" {mode + ' s':>9} {'extra s':>8} {'overhead':>9} {'(fastest)':>9}"
    print(head)
    for r in rows:
        line = f"{r['stage']:<18} {r['plain_wall_s']:>8.3f}"
        for mode in modes[1:]:
            line += (
                f" {r[f'{mode}_wall_s']:>9.3f} {r[f'{mode}_extra_s']:>8.3f}"
                f" {r[f'{mode}_overhead_pct']:>8.1f}% {r[f'{mode}_min_overhead_pct']:>8.1f}%"
            )
        print(line)
    print("overhead: of the medians; (fastest): of the fastest runs of each")
    if args.json:
        doc = {
            "input": str(csv),
            "rate": args.rate,
            "repeats": args.repeats,
            "algorithm": args.algorithm,
            "sizes": [config["optimize"]["min_size"], config["optimize"]["max_size"]],
            "load_average_start": list(load_start),
            "load_average_end": list(load),
            "blocking": os.environ.get("STRATOPT_PROFILE_BLOCKING", "") or "0",
            "cpus": os.cpu_count(),
            "rows": rows,
            "runs": {k: v.to_dict() for k, v in results.items()},
        }
        args.json.write_text(json.dumps(doc, indent=2))
    return 0
