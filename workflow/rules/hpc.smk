# HPC diagnostics (docs/hpc.md). Switched on with `hpc: {gpu_probe: true}`.


rule gpu_probe:
    # Declares one GPU so that a cluster run shows, end to end, that a GPU
    # request reaches the scheduler and the job runs on the GPU it was given.
    output:
        result(C.GPU_PROBE),
    log:
        log_of("gpu_probe"),
    benchmark:
        benchmark_of("gpu_probe")
    conda:
        conda_env("gpu_probe")
    resources:
        gpu=1,
    script:
        "../../scripts/gpu_probe.py"
