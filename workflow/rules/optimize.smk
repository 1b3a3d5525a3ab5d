# Search and selection (docs/algorithms.md). One coarse job for every
# algorithm and portfolio size: its optimize.workers workers (threads: below,
# so Snakemake accounts the cores) share one start-up, one matrix read and
# one evaluator, where a job per algorithm paid them eight times. Each size is
# checkpointed under runs/{algorithm}/ so that a rerun after an interruption
# resumes; the rule's outputs name the algorithms to run.


rule optimize:
    input:
        f"{RESULTS}/prepared.parquet",
    output:
        expand(
            f"{RESULTS}/runs/{{algorithm}}.json",
            algorithm=config["optimize"]["algorithms"],
        ),
    log:
        f"{RESULTS}/logs/optimize.log",
    benchmark:
        f"{RESULTS}/benchmarks/optimize.tsv"
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
