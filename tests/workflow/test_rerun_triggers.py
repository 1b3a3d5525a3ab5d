"""Reruns follow the configuration: every schema key, changed on a finished run, reruns
exactly the rules that read it (and what depends on their outputs), nothing more.

A small run of the whole pipeline finishes first; then, for every leaf key of
workflow/schemas/config.schema.yaml, a dry run with that key changed (its own
config file on top of the run's) must schedule exactly the expected rules.
The table below is the specification: a new schema key fails
`test_every_schema_key_is_walked` until it is added here with the rules it
affects. The report shows the settings that applied to the run (but profiling),
so it is affected by every key except profiling.* and those this run does not
use (rule_params.report): here, on a real file with DuckDB, zone mode off,
the twin's, HeavyDB's, the zone weights and bench.workload rerun nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflow_helpers import REPO, prepare_workdir, snakemake

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
WALKER = REPO / "tests" / "dryrun_walk.py"

#: rule -> the rules that read one of its outputs (the default target's DAG).
CONSUMERS: dict[str, set[str]] = {
    "ingest": {"publish_ingest"},
    "publish_ingest": {"load_db", "validate", "report"},
    "validate": {"select", "report"},
    "load_db": {"prepare"},
    "prepare": {"correlation_shard", "correlation_summary", "optimize", "select"}
    | {"store_results", "report"},
    "correlation_shard": {"correlation_summary"},
    "correlation_summary": {"report"},
    "optimize": {"select"},
    "select": {"store_results", "report"},
    "store_results": {"report"},
    "gpu_probe": {"report"},
    "report": set(),
    "chain": set(),  # every stage after ingest in one job (the report included)
}
PIPELINE = set(CONSUMERS) - {"gpu_probe", "chain"}
DIRECT_TRIGGERS_EXCLUDED = "input files updated by another job"

R = {"report"}  # every key that applied to the run is shown in the report
#: schema key -> (the new value, the rules whose own inputs or params change).
CHANGES: dict[str, tuple[Any, set[str]]] = {
    "dataset": ("small2", PIPELINE),
    "input.source": ("COPY_OF_SAMPLE", {"ingest"} | R),
    # the twin's settings: this run reads a file
    "input.reference_data": ("/elsewhere", set()),
    "input.synth_seed": (1, set()),
    "input.synth_strategies": (100, set()),
    "date_range.start": ("2024-03-01", {"prepare", "validate"} | R),
    "date_range.end": ("2025-06-30", {"prepare", "validate"} | R),
    "ulta": (False, {"prepare", "validate"} | R),
    "metric": ("roi", {"optimize", "validate"} | R),
    "drawdown_threshold": (5.0, {"optimize", "select", "validate"} | R),
    "drawdown_floor": (500.0, {"optimize", "select", "validate"} | R),
    "flag_drawdown_below": (10.0, {"select", "validate"} | R),
    "balanced": (True, {"optimize", "select", "validate"} | R),
    "penalty_factor": (2.0, {"optimize", "select", "validate"} | R),
    "zone.enabled": (True, {"prepare"} | R),
    "zone.weights": ([1.0, 2.0], set()),  # zone mode is off in this run: the weights are unused
    "database.backend": ("heavydb", {"load_db", "prepare", "store_results"} | R),
    "database.compute": ("sql", {"prepare"} | R),
    "database.heavydb.host": ("db.example", set()),  # unused with DuckDB
    "database.heavydb.port": (6275, set()),
    "database.heavydb.user": ("someone", set()),
    "database.heavydb.dbname": ("other", set()),
    "database.heavydb.protocol": ("http", set()),
    "database.heavydb.password_env": ("OTHER_PASSWORD", set()),
    "correlation.enabled": (False, R),
    "correlation.shards": (3, {"correlation_shard", "correlation_summary"} | R),
    "correlation.threads": (2, R),  # the shard jobs' threads: the same summary
    "correlation.backend": ("cupy", {"correlation_shard"} | R),
    "correlation.dtype": ("float32", {"correlation_shard"} | R),
    "correlation.tile": (256, {"correlation_shard"} | R),
    "correlation.bins": (100, {"correlation_shard"} | R),
    "correlation.thresholds": ([0.5, 0.9], {"correlation_shard"} | R),
    "correlation.top_pairs": (20, {"correlation_shard"} | R),
    "correlation.near_duplicate": (0.95, {"correlation_shard"} | R),
    # the optimize job runs the listed algorithms with their own settings (the other
    # algorithms' settings are no param): it reruns, reusing the kept ones' checkpoints
    "optimize.algorithms": (["sa"], {"optimize", "select", "validate"} | R),
    "optimize.preset": ("legacy", {"optimize", "validate"} | R),
    "optimize.min_size": (6, {"optimize", "validate"} | R),
    "optimize.max_size": (7, {"optimize", "validate"} | R),
    "optimize.generations": (11, {"optimize", "validate"} | R),
    "optimize.population": (11, {"optimize", "validate"} | R),
    "optimize.mutation_rate": (0.2, {"optimize", "validate"} | R),
    "optimize.budget": (50, {"optimize", "validate"} | R),
    "optimize.seed": (8, {"optimize", "validate"} | R),
    "optimize.workers": (2, R),  # the job's threads: results do not depend on it
    "optimize.pool": ("process", R),  # threads or processes: the same results
    # the same files by one job, but Snakemake's provenance (params) is the chain's now:
    # switching the job layout reruns every chained stage once
    "chain.mode": ("always", {"chain"}),
    "chain.max_strategies": (100, R),  # only read with chain.mode auto
    "optimize.backend": ("cupy", {"optimize", "validate"} | R),
    # each algorithm's own settings (optimize.params.<algorithm>, docs/algorithms.md): those
    # of the algorithms that run (sa and rs here) reach optimize and validate, no other
    "optimize.params.pso.c1": (0.7, R),
    "optimize.params.pso.c2": (0.7, R),
    "optimize.params.pso.turbulence": (0.05, R),
    "optimize.params.sa.iterations": (500, {"optimize", "validate"} | R),
    "optimize.params.sa.initial_accept": (0.5, {"optimize", "validate"} | R),
    "optimize.params.sa.final_ratio": (0.01, {"optimize", "validate"} | R),
    "optimize.params.sa.calibration": (10, {"optimize", "validate"} | R),
    "optimize.params.de.F": (0.6, R),
    "optimize.params.de.CR": (0.4, R),
    "optimize.params.aco.ants": (5, R),
    "optimize.params.aco.alpha": (2.0, R),
    "optimize.params.aco.rho": (0.2, R),
    "optimize.params.aco.deposit": (0.3, R),
    "optimize.params.aco.tau_max": (2.0, R),
    "optimize.params.hc.iterations": (100, R),
    "optimize.params.hc.patience": (20, R),
    "optimize.params.bo.initial": (10, R),
    "optimize.params.bo.batch": (3, R),
    "optimize.params.bo.explore": (0.2, R),
    "optimize.params.bo.fresh": (0.2, R),
    "optimize.params.bo.prior_var": (5.0, R),
    "optimize.params.bo.max_model": (64, R),
    "optimize.params.bo.shortlist": (2.0, R),
    # validation: off, select loses its validation input; any setting reruns validate
    "validation.enabled": (False, {"select"} | R),
    "validation.scheme": ("expanding", {"validate"} | R),
    "validation.train": (30, {"validate"} | R),
    "validation.test": (10, {"validate"} | R),
    "validation.step": (20, {"validate"} | R),
    "validation.sizes": ([5], {"validate"} | R),
    "validation.algorithms": (["sa"], {"validate"} | R),
    "validation.random_portfolios": (50, {"validate"} | R),
    "validation.seed": (3, {"validate"} | R),
    "validation.percentile_bar": (80, {"validate"} | R),
    "validation.spearman_near_zero": (0.3, {"validate"} | R),
    "profiling.enabled": (True, set()),
    "profiling.rate": (50, set()),
    "report.title": ("another title", R),
    "bench.workload": ("one-size", set()),  # the bench rule's, not part of the run
    "hpc.gpu_probe": (True, {"gpu_probe"} | R),
}


def schema_keys(node: dict[str, Any], prefix: str = "") -> list[str]:
    """Every leaf key of the config schema, dotted."""
    keys = []
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        if sub.get("type") == "object" and "properties" in sub:
            keys += schema_keys(sub, f"{path}.")
        else:
            keys.append(path)
    return keys


def downstream(rules: set[str]) -> set[str]:
    out, todo = set(rules), list(rules)
    while todo:
        for nxt in CONSUMERS[todo.pop()]:
            if nxt not in out:
                out.add(nxt)
                todo.append(nxt)
    return out


def nested(key: str, value: Any) -> dict[str, Any]:
    head, _, rest = key.partition(".")
    return {head: nested(rest, value) if rest else value}


def test_every_schema_key_is_walked() -> None:
    keys = schema_keys(yaml.safe_load(SCHEMA.read_text()))
    assert sorted(keys) == sorted(CHANGES)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory, real_sample_csv: Path) -> dict[str, Any]:
    """A finished small run, then one dry run per key (and one with nothing changed)."""
    work = prepare_workdir(tmp_path_factory.mktemp("rerun"))
    base = {
        "dataset": "small",
        "input": {"source": str(real_sample_csv)},
        "correlation": {"shards": 2},
        "chain": {"mode": "never"},  # one job per stage, as the table below names them
        "optimize": {"algorithms": ["sa", "rs"], "min_size": 5, "max_size": 6}
        | {"generations": 10, "population": 10, "seed": 7, "workers": 1},
    }
    (work / "base.yaml").write_text(yaml.safe_dump(base))
    snakemake(work, "--configfile", str(work / "base.yaml"))
    copy = work / "copy_of_sample.csv"
    shutil.copyfile(real_sample_csv, copy)
    variants: dict[str, list[str]] = {"(nothing)": ["--configfile", str(work / "base.yaml")]}
    for key, (value, _) in CHANGES.items():
        if value == "COPY_OF_SAMPLE":
            value = str(copy)
        path = work / f"variant_{key}.yaml"
        path.write_text(yaml.safe_dump(nested(key, value)))
        variants[key] = ["--configfile", str(work / "base.yaml"), str(path)]
    spec = {
        "workdir": str(work),
        "snakefile": str(REPO / "Snakefile"),
        "base_args": ["--cores", "2"],
        "variants": variants,
    }
    (work / "spec.json").write_text(json.dumps(spec))
    out = work / "walk.json"
    proc = subprocess.run(
        [sys.executable, str(WALKER), str(work / "spec.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.slow  # a whole run, then a dry run per schema key
def test_an_unchanged_config_reruns_nothing(walked: dict[str, Any]) -> None:
    assert walked["(nothing)"]["nothing"], walked["(nothing)"]["tail"]


@pytest.mark.slow  # a whole run, then a dry run per schema key
@pytest.mark.parametrize("key", list(CHANGES))
def test_a_changed_key_reruns_exactly_what_it_affects(walked: dict[str, Any], key: str) -> None:
    got = walked[key]
    assert got["returncode"] == 0, got["tail"]
    direct = {
        rule
        for reason, rules in got["reasons"].items()
        if reason != DIRECT_TRIGGERS_EXCLUDED
        for rule in rules
        if rule != "all"
    }
    jobs = set(got["jobs"]) - {"all"}
    _, want = CHANGES[key]
    # Snakemake names one reason per job: a rule that reruns anyway because a
    # changed rule upstream feeds it (the report, mostly) is listed under that
    unmasked = {r for r in want if r not in downstream(want - {r})}
    assert unmasked <= direct <= want, got["tail"]
    assert jobs == downstream(want), got["tail"]
    if not want:
        assert got["nothing"], got["tail"]
