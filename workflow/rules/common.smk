import csv
from pathlib import Path

from snakemake.utils import validate

validate(config, "../schemas/config.schema.yaml")

DATASET = config["dataset"]
RESULTS = f"results/{DATASET}"


wildcard_constraints:
    dataset=r"[A-Za-z0-9_.-]+",
    shard=r"\d+",


def source_path():
    """The CSV the ingest stage reads: the user's file or the cached twin."""
    source = config["input"]["source"]
    if source == "synthetic":
        seed = config["input"]["synth_seed"]
        n = config["input"]["synth_strategies"]
        return f"results/twin-data/twin_seed{seed}_n{n}.csv"
    return source


def stage_targets():
    """The final outputs of every activated stage but the report."""
    targets = [
        f"{RESULTS}/matrix.parquet",
        f"{RESULTS}/prepared.parquet",
        f"{RESULTS}/summary.json",
        f"{RESULTS}/portfolios.parquet",
        f"{RESULTS}/stored.json",
    ]
    if config["correlation"]["enabled"]:
        targets.append(f"{RESULTS}/correlation.json")
    if config["hpc"]["gpu_probe"]:
        targets.append(f"{RESULTS}/hpc/gpu_probe.json")
    return targets


def all_targets():
    """The default target: every stage, ending with the report that reads them all."""
    return stage_targets() + [f"{RESULTS}/report.html"]


def correlation_resources():
    """One GPU per shard job on the CuPy backend, so --resources gpu=1 serialises them."""
    return {"gpu": 1} if config["correlation"]["backend"] == "cupy" else {}


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
    """(rule, wildcards) of every stage the default target needs, in order."""
    steps = [("ingest", {}), ("load_db", {}), ("prepare", {})]
    if config["correlation"]["enabled"]:
        steps += [
            ("correlation_shard", {"shard": str(i)})
            for i in range(config["correlation"]["shards"])
        ]
        steps.append(("correlation_summary", {}))
    steps += [("optimize", {}), ("select", {}), ("store_results", {}), ("report", {})]
    return steps


def plain(named, wildcards):
    """A Snakemake Namedlist as plain data, {wildcard} patterns filled in."""
    items = [str(x).format(**wildcards) if isinstance(x, str) else x for x in named]
    names = {}
    for name, where in named._names.items():
        start, end = where
        names[name] = start if end is None else [start, end]
    return {"items": items, "names": names}


def chain_plan():
    """What each stage's own rule would hand its script."""
    plan = []
    for rule, wildcards in chain_steps():
        proxy = getattr(rules, rule)
        plan.append(
            {
                "rule": rule,
                "input": plain(proxy.input, wildcards),
                "output": plain(proxy.output, wildcards),
                "params": plain(proxy.params, wildcards),
                "log": plain(proxy.log, wildcards),
                "benchmark": str(proxy.benchmark).format(**wildcards),
                "wildcards": {
                    "items": list(wildcards.values()),
                    "names": {k: i for i, k in enumerate(wildcards)},
                },
                "threads": config["optimize"]["workers"] if rule == "optimize" else 1,
            }
        )
    return plan


def chain_outputs():
    """Every stage output, flagged as the stage rules flag them."""
    legacy = str(rules.select.output.legacy)
    html = str(rules.report.output[0])
    out = []
    for rule, wildcards in chain_steps():
        for path in getattr(rules, rule).output:
            path = str(path).format(**wildcards)
            if path == legacy:
                out.append(directory(path))
            elif path == html:
                flagged = report(
                    path, caption="../report/run_report.rst", category="Run report"
                )
                out.append(flagged)
            else:
                out.append(path)
    return out
