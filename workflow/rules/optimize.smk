# Search and selection (docs/algorithms.md). One coarse job for every
# algorithm and portfolio size: its optimize.workers workers (threads: below,
# so Snakemake accounts the cores) share one start-up, one matrix read and
# one evaluator, where a job per algorithm paid them eight times. Each size is
# checkpointed under runs/{algorithm}/ so that a rerun after an interruption
# resumes; the rule's outputs name the algorithms to run.


rule optimize:
    input:
        result(C.PREPARED),
    output:
        expand(result(C.RUN), algorithm=config["optimize"]["algorithms"]),
    log:
        log_of("optimize"),
    benchmark:
        benchmark_of("optimize")
    # the longest job and on the critical path: started as soon as a core pair is
    # free, before the correlation shards (docs/performance.md, job order)
    priority: 10
    conda:
        conda_env("optimize")
    # its workers; one thread for a small search (stratopt.runtime.scheduling)
    threads: OPTIMIZE_THREADS
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
        matrix=result(C.PREPARED),
        runs=expand(
            result(C.RUN),
            algorithm=config["optimize"]["algorithms"],
        ),
    output:
        portfolios=result(C.PORTFOLIOS),
        summary=result(C.SUMMARY),
        zones=result(C.ZONES),
        # the legacy's files; its two pictures per size are entries of snakemake --report
        legacy=report(
            directory(result(C.LEGACY_DIR)),
            patterns=[C.LEGACY_FIGURES],
            caption="../report/portfolio_figure.rst",
            category="Portfolios (in sample, hindsight)",
            subcategory="size {size}",
            labels={"size": "{size}", "figure": "{figure}"},
        ),
    log:
        log_of("select"),
    benchmark:
        benchmark_of("select")
    conda:
        conda_env("select")
    # its pictures on two threads for many sizes (stratopt.runtime.scheduling)
    threads: SELECT_THREADS
    params:
        **rule_params.for_rule("select", config),
    script:
        "../../scripts/select.py"
