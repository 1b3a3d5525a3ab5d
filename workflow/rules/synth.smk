# The production twin (docs/twin.md): generated once per seed and size from
# the public real data and cached under results/twin-data/ (never committed);
# source_path() in common.smk names it when input.source is "synthetic".


rule synth:
    input:
        metrics=f"{config['input']['reference_data']}/sensex_strategy_metrics.csv",
        sample=f"{config['input']['reference_data']}/sensex_real_sample_500.csv",
    output:
        C.TWIN_CSV,
    log:
        log_of("synth_seed{seed}_n{n}"),
    benchmark:
        benchmark_of("synth_seed{seed}_n{n}")
    wildcard_constraints:
        seed=r"\d+",
        n=r"\d+",
    conda:
        conda_env("synth")
    script:
        "../../scripts/synth.py"
