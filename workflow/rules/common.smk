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
    if config["validation"]["enabled"]:
        targets += [f"{RESULTS}/validation.json", f"{RESULTS}/validation_oos.parquet"]
    if config["correlation"]["enabled"]:
        targets.append(f"{RESULTS}/correlation.json")
    if config["hpc"]["gpu_probe"]:
        targets.append(f"{RESULTS}/hpc/gpu_probe.json")
    return targets


def all_targets():
    """The default target: every stage, ending with the report that reads them all."""
    return stage_targets() + [f"{RESULTS}/report.html"]


def validation_input(wildcards):
    """select chooses the best overall size by the out-of-sample result when validate runs."""
    if config["validation"]["enabled"]:
        return {"validation": f"{RESULTS}/validation.json"}
    return {}


def correlation_resources():
    """One GPU per shard job on the CuPy backend, so --resources gpu=1 serialises them."""
    return {"gpu": 1} if config["correlation"]["backend"] == "cupy" else {}
