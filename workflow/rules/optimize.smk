# Search and selection (docs/algorithms.md). One coarse job per algorithm: it
# runs every portfolio size with optimize.workers worker processes
# (threads: below, so Snakemake accounts the cores), checkpointing each size
# under runs/{algorithm}/ so that a rerun after an interruption resumes.


rule optimize:
    input:
        f"{RESULTS}/prepared.parquet",
    output:
        f"{RESULTS}/runs/{{algorithm}}.json",
    log:
        f"{RESULTS}/logs/optimize_{{algorithm}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/optimize_{{algorithm}}.tsv"
    wildcard_constraints:
        algorithm=r"[A-Za-z0-9_]+",
    conda:
        conda_env("optimize")
    threads: config["optimize"]["workers"]
    resources:
        gpu=1 if config["optimize"]["backend"] == "cupy" else 0,
    params:
        # the settings that decide a result: changing one reruns the searches
        **rule_params.for_rule("optimize", config),
    script:
        "../../scripts/optimize.py"


rule select:
    input:
        unpack(validation_input),
        matrix=f"{RESULTS}/prepared.parquet",
        runs=expand(
            f"{RESULTS}/runs/{{algorithm}}.json",
            algorithm=config["optimize"]["algorithms"],
        ),
    output:
        portfolios=f"{RESULTS}/portfolios.parquet",
        summary=f"{RESULTS}/summary.json",
        zones=f"{RESULTS}/zones.json",
        legacy=directory(f"{RESULTS}/portfolios"),
    log:
        f"{RESULTS}/logs/select.log",
    benchmark:
        f"{RESULTS}/benchmarks/select.tsv"
    conda:
        conda_env("select")
    params:
        **rule_params.for_rule("select", config),
    script:
        "../../scripts/select.py"
