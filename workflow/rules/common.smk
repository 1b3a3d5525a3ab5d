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


def all_targets():
    """The final outputs of every activated stage (the default target)."""
    targets = [f"{RESULTS}/matrix.parquet"]
    if config["hpc"]["gpu_probe"]:
        targets.append(f"{RESULTS}/hpc/gpu_probe.json")
    return targets
