# Every stage in one job (docs/performance.md): where a job's start-up (a
# process, Snakemake's preamble, the imports, the numba kernels: about a
# second of CPU) would outweigh its work, as on the real 500-strategy sample.
# Rule `chain` runs the stage rules' own functions on their own inputs and
# outputs, in order, in one process; `ruleorder` makes Snakemake pick it for
# those files. Config chain.mode: auto (inputs up to chain.max_strategies
# strategies), always, never. Included last: it reads the stage rules.


if use_chain():

    rule chain:
        input:
            result(C.MATRIX),
            result(C.INGEST),
        output:
            chain_outputs(),
        log:
            log_of("chain"),
        benchmark:
            benchmark_of("chain")
        conda:
            conda_env("chain")
        threads: workflow.cores
        params:
            plan=chain_plan(),
        script:
            "../../scripts/chain.py"

    ruleorder:
        chain
        > load_db
        > prepare
        > correlation_shard
        > correlation_summary
        > validate
        > optimize
        > select
        > store_results
        > report
