# All-pairs correlation analysis in shards (docs/correlation.md).
# Each shard is one job over its tiles of the N x N matrix; with the CuPy
# backend the shards declare one GPU so that `--resources gpu=1` runs them
# one at a time.


rule correlation_shard:
    input:
        f"{RESULTS}/prepared.parquet",
    output:
        f"{RESULTS}/correlation/shard_{{shard}}.parquet",
    log:
        f"{RESULTS}/logs/correlation_shard_{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/correlation_shard_{{shard}}.tsv"
    conda:
        conda_env("correlation_shard", "correlation")
    resources:
        **correlation_resources(),
    params:
        **rule_params.for_rule("correlation_shard", config),
    script:
        "../../scripts/correlation_shard.py"


rule correlation_summary:
    input:
        shards=expand(
            f"{RESULTS}/correlation/shard_{{shard}}.parquet",
            shard=range(config["correlation"]["shards"]),
        ),
        matrix=f"{RESULTS}/prepared.parquet",
    output:
        f"{RESULTS}/correlation.json",
    log:
        f"{RESULTS}/logs/correlation_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/correlation_summary.tsv"
    conda:
        conda_env("correlation_summary", "correlation")
    script:
        "../../scripts/correlation_summary.py"
