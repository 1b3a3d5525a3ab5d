import sys
import csv
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.iocontainers import Wildcards
from snakemake.utils import validate

# The package beside the workflow (as the rule scripts import it), for the
# config checks below: standard library only, so any Snakemake env can run them.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from stratopt.runtime.config_checks import (
    check_against_ingest,
    check_config,
    dataset_name,
    dates_as_text,
)
from stratopt import contracts as C
from stratopt.errors import ConfigError
from stratopt.runtime.staging import source_stamp

# YAML reads an unquoted 2024-05-01 as a date; the schema wants text
dates_as_text(config)
validate(config, "../schemas/config.schema.yaml")

# What the schema cannot say (min_size <= max_size, known algorithms, real
# dates in order), checked before any job starts.
try:
    check_config(config)
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None

# Each rule's params come from the package (stratopt.runtime.rule_params), so that tests
# and benchmarks calling a stage directly build the very same values.
from stratopt.runtime import rule_params  # noqa: E402

# They are plain YAML values: Snakemake need not import pandas to handle them.
from stratopt.runtime.snakemake_params import use_plain_params  # noqa: E402

use_plain_params()

# dataset: null names the run after its input (the twin: `twin`); every rule sees the name
config["dataset"] = dataset_name(config)
DATASET = config["dataset"]
RESULTS = C.results_dir(DATASET)


wildcard_constraints:
    dataset=r"[A-Za-z0-9_.-]+",
    shard=r"\d+",


def result(output, **wildcards):
    """Where an output of stratopt.contracts lies for this dataset (other wildcards stay {name})."""
    return f"{RESULTS}/{C.fill(output.name, **wildcards)}"


def log_of(job):
    return result(C.LOG, job=job)


def benchmark_of(job):
    return result(C.BENCHMARK, job=job)


def source_path():
    """The CSV the ingest stage reads: the user's file or the cached twin."""
    source = config["input"]["source"]
    if source == "synthetic":
        seed = config["input"]["synth_seed"]
        n = config["input"]["synth_strategies"]
        return C.fill(C.TWIN_CSV, seed=seed, n=n)
    return source


def staged(output):
    """Where the ingest rule stages an output for this source (stratopt.runtime.staging)."""
    source = config["input"]["source"]
    stamp = "synthetic" if source == "synthetic" else source_stamp(source)
    return f"{RESULTS}/{C.fill(C.STAGED, stamp=stamp, name=output.file_name())}"


def stage_targets():
    """The final outputs of every activated stage but the report."""
    outputs = [C.MATRIX, C.PREPARED, C.SUMMARY, C.PORTFOLIOS, C.STORED]
    if config["validation"]["enabled"]:
        outputs += [C.VALIDATION, C.VALIDATION_OOS]
    if config["correlation"]["enabled"]:
        outputs.append(C.CORRELATION)
    if config["hpc"]["gpu_probe"]:
        outputs.append(C.GPU_PROBE)
    return [result(o) for o in outputs]


def all_targets():
    """The default target: every stage, ending with the report that reads them all (and its
    copy for snakemake --report)."""
    return stage_targets() + [result(C.REPORT), result(C.REPORT_STANDALONE)]


def conda_env(stage, name=None):
    """envs/<name>.yaml (name: the stage's, or its .smk file's when shared), or the variant
    the configured backend needs (envs/ and its variants: scripts/dev/envs.py)."""
    variant = None
    if stage == "optimize" and config["optimize"]["backend"] == "cupy":
        variant = "gpu"
    elif stage == "correlation_shard" and config["correlation"]["backend"] == "cupy":
        variant = "gpu"
    elif stage in ("load_db", "prepare", "store_results"):
        variant = "heavydb" if config["database"]["backend"] == "heavydb" else None
    suffix = f".{variant}" if variant else ""
    return f"../../envs/{name or stage}{suffix}.yaml"


def duckdb_file(output):
    """{"db": its path} when DuckDB is the engine (a file a rule writes), else nothing."""
    if config["database"]["backend"] == "duckdb":
        return {"db": result(output)}
    return {}


def validation_input(wildcards):
    """select chooses the best overall size by the out-of-sample result when validate runs."""
    if config["validation"]["enabled"]:
        return {"validation": result(C.VALIDATION)}
    return {}


def correlation_resources():
    """One GPU per shard job on the CuPy backend, so --resources gpu=1 serialises them;
    one side-job unit (stratopt.runtime.scheduling)."""
    gpu = {"gpu": 1} if config["correlation"]["backend"] == "cupy" else {}
    return {**gpu, SIDE_JOBS: 1}


# On few local cores validate and the correlation shards do not run together, so
# that the search gets its cores as soon as prepare ends (stratopt.runtime.scheduling):
# validate takes every side-job unit, a shard one.
from stratopt.runtime.scheduling import (  # noqa: E402
    SIDE_JOBS,
    optimize_threads,
    register_side_jobs,
    select_threads,
)

# the search's threads: its workers, or one for a small search (few algorithms x sizes)
OPTIMIZE_THREADS = optimize_threads(
    config["optimize"]["workers"],
    len(config["optimize"]["algorithms"]),
    config["optimize"]["min_size"],
    config["optimize"]["max_size"],
)
SIDE_SLOTS = register_side_jobs(workflow, OPTIMIZE_THREADS)
# select draws its pictures on two threads where there are enough of them, unless a
# correlation shard would wait for that core (few local cores: stratopt.runtime.scheduling)
SELECT_THREADS = select_threads(
    config["optimize"]["min_size"],
    config["optimize"]["max_size"],
    shards_beside=SIDE_SLOTS is not None and config["correlation"]["enabled"],
)


def validate_resources():
    """Validate's side-job units (every one: no shard beside it) and its GPU."""
    gpu = 1 if config["optimize"]["backend"] == "cupy" else 0
    return {"gpu": gpu, SIDE_JOBS: SIDE_SLOTS or 1}


def input_strategies(path):
    """Strategy columns in a CSV's header (None when unknown: not there yet, not a CSV).

    Read at DAG time to choose the job layout: one line, milliseconds."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    return sum(
        1 for name in header if name.strip().lower() not in ("date", "day", "zone")
    )


def use_chain():
    """One job for every stage (the chain job of chain.smk, docs/performance.md) when
    config chain.mode is `always`, or `auto` and the input has at most
    chain.max_strategies strategies."""
    mode = config["chain"]["mode"]
    if mode != "auto":
        return mode == "always"
    n = input_strategies(source_path())
    return n is not None and n <= config["chain"]["max_strategies"]


# The plan of the chain job (workflow/rules/chain.smk), read there after every stage is defined.


def chain_steps():
    """(rule, wildcards) of every stage after ingest that the default target needs, in order.

    Ingest stays a job of its own: its staging keeps the last good matrix when a
    source fails to read (stratopt.runtime.staging), which a chain job, whose
    outputs Snakemake removes before it runs, could not."""
    steps = [("load_db", {}), ("prepare", {})]
    if config["correlation"]["enabled"]:
        steps += [
            ("correlation_shard", {"shard": str(i)})
            for i in range(config["correlation"]["shards"])
        ]
        steps.append(("correlation_summary", {}))
    if config["validation"]["enabled"]:
        steps.append(("validate", {}))
    steps += [("optimize", {}), ("select", {}), ("store_results", {}), ("report", {})]
    return steps


from stratopt.runtime.chain_plan import plain_named  # noqa: E402


def chain_plan():
    """What each stage's own rule would hand its script."""
    step_threads = {  # as the rules' own `threads:`
        "optimize": OPTIMIZE_THREADS,
        "correlation_shard": config["correlation"]["threads"],
        "select": SELECT_THREADS,
    }
    plan = []
    for rule, wildcards in chain_steps():
        proxy = getattr(rules, rule)
        plan.append(
            {
                "rule": rule,
                "input": plain_named(proxy.input, wildcards),
                "output": plain_named(proxy.output, wildcards),
                "params": plain_named(proxy.params, wildcards),
                "log": plain_named(proxy.log, wildcards),
                "benchmark": str(proxy.benchmark).format(**wildcards),
                "wildcards": {
                    "items": list(wildcards.values()),
                    "names": {k: i for i, k in enumerate(wildcards)},
                },
                "threads": step_threads.get(rule, 1),
            }
        )
    return plan


def chain_outputs():
    """Every stage output, flagged as the stage rules flag them (directory, report)."""
    out = []
    for rule, wildcards in chain_steps():
        # the flags are the rule's own files' (workflow.get_rule); rules.<name> drops them
        proxy, real = getattr(rules, rule).output, workflow.get_rule(rule).output
        for path, flagged in zip(proxy, real, strict=True):
            name = str(path).format(**wildcards)
            if "directory" in flagged.flags:
                name = directory(name)
            if "report" in flagged.flags:
                r = flagged.flags["report"]  # its caption resolved by the stage rule
                name = report(
                    name,
                    caption=r.caption,
                    category=r.category,
                    subcategory=r.subcategory,
                    labels=r.labels,
                    patterns=r.patterns,
                    htmlindex=r.htmlindex,
                )
            out.append(name)
    return out


# Sizes and the date range against the data, when the last ingest is current
# (newer than its source); otherwise the ingest rule checks them as it reads.
try:
    check_against_ingest(config, result(C.INGEST), source_path())
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None
