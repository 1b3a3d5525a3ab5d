"""The tuned pipeline end to end through Snakemake: `snakemake --cores C` from ingest to report.

The workload's config (with `dataset` and `input.source` set to the bench's
input) is written to a file and the default target is built from scratch in
results/{dataset}/, timed from the outside as one command (wall, CPU and peak
RSS of the largest single process, os.wait4). Each rule's own peak comes from
its Snakemake benchmark file (benchmarks/{rule}.tsv, column max_rss in MB,
summed over the rule's process tree by Snakemake).
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from stratopt import contracts
from stratopt.bench.sidebyside.workloads import REPO, Workload
from stratopt.bench.timing import run_command


def snakemake_config(w: Workload, source: Path, dataset: str) -> dict[str, Any]:
    config = {k: v for k, v in w.config.items() if k != "bench"}
    config["dataset"] = dataset
    config["input"] = {**config.get("input", {}), "source": str(source)}
    return config


def rule_benchmarks(results: Path) -> dict[str, dict[str, float | None]]:
    """rule -> {"s", "max_rss_mb", "cpu_time"} from results/benchmarks/*.tsv (first row each;
    None where a column is missing or not a number)."""
    out: dict[str, dict[str, float | None]] = {}
    for path in contracts.BENCHMARK.glob(results):
        with path.open(newline="") as fh:
            row = next(csv.DictReader(fh, delimiter="\t"), None)
        if row is None:
            continue

        def num(key: str, row: dict[str, str] = row) -> float | None:
            try:
                return float(row[key])
            except (KeyError, TypeError, ValueError):
                return None

        key = path.stem  # the job
        out[key] = {"s": num("s"), "max_rss_mb": num("max_rss"), "cpu_time": num("cpu_time")}
    return out


def run_snakemake(
    w: Workload, source: Path, out: Path, repeats: int, cores: int, say: Any
) -> dict[str, Any]:
    """`repeats` fresh runs of the whole pipeline; the samples, and the rules' own figures of the last."""
    dataset = f"bench-{w.name}-snakemake"
    results = REPO / contracts.results_dir(dataset)
    config_path = out / "snakemake-config.yaml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(snakemake_config(w, source, dataset), sort_keys=False))
    argv = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        str(cores),
        "--configfile",
        str(config_path),
    ]
    samples = []
    for rep in range(repeats):
        shutil.rmtree(results, ignore_errors=True)
        sample = run_command(argv, cwd=str(REPO), log_path=str(out / "snakemake.log"))
        samples.append(sample.to_dict())
        say(
            f"  snakemake run {rep + 1} (--cores {cores}, ingest to report): wall {sample.wall_s:.2f} s, "
            f"cpu {sample.cpu_s:.2f} s, largest process {sample.peak_rss_mb:.0f} MB"
        )
    rules = rule_benchmarks(results)
    shutil.rmtree(results, ignore_errors=True)
    return {"command": " ".join(argv), "cores": cores, "samples": samples, "rules": rules}
