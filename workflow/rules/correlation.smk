# All-pairs correlation analysis in shards (docs/correlation.md).
# Each shard is one job over its tiles of the N x N matrix; with the CuPy
# backend the shards declare one GPU so that `--resources gpu=1` runs them
# one at a time.


rule correlation_shard:
    input:
        result(C.PREPARED),
    output:
        result(C.CORRELATION_SHARD),
    log:
        log_of("correlation_shard_{shard}"),
    benchmark:
        benchmark_of("correlation_shard_{shard}")
    # after the search, the shards before select: the report waits on both branches,
    # and the shards' (with their summary) is the longer one when there are several
    priority: 1
    conda:
        conda_env("correlation_shard", "correlation")
    # its tiles split between threads (the same summary): where the shards have the
    # cores to themselves, one job with every core pays one process start, not one per core
    threads: config["correlation"]["threads"]
    resources:
        **correlation_resources(),
    params:
        **rule_params.for_rule("correlation_shard", config),
    script:
        "../../scripts/correlation_shard.py"


rule correlation_summary:
    input:
        shards=expand(
            result(C.CORRELATION_SHARD),
            shard=range(config["correlation"]["shards"]),
        ),
        matrix=result(C.PREPARED),
    output:
        result(C.CORRELATION),
    log:
        log_of("correlation_summary"),
    benchmark:
        benchmark_of("correlation_summary")
    conda:
        conda_env("correlation_summary", "correlation")
    script:
        "../../scripts/correlation_summary.py"
