# The side-by-side benchmark (docs/benchmark.md): `snakemake --cores 2 bench`
# runs the workload named by config bench.workload (config/workloads/NAME.yaml)
# on this dataset's input: the legacy baseline and the tuned pipeline,
# alternating, each stage in its own child process. Not part of `all`: it
# takes minutes and wants the machine to itself (threads: every core).


rule bench:
    input:
        source_path(),
    output:
        json=result(C.BENCH),
        md=result(C.BENCH_MD),
    log:
        log_of("bench"),
    benchmark:
        benchmark_of("bench")
    conda:
        conda_env("bench")
    threads: workflow.cores
    params:
        **rule_params.for_rule("bench", config),
    script:
        "../../scripts/bench.py"
