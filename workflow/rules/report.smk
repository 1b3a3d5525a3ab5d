# The run report (docs/report.md): one self-contained HTML file from every
# activated stage's outputs, benchmark files and profiles. Flagged with
# report() so that `snakemake --report` includes it.


rule report:
    input:
        stage_targets(),
    output:
        report(
            f"{RESULTS}/report.html",
            caption="../report/run_report.rst",
            category="Run report",
        ),
    log:
        f"{RESULTS}/logs/report.log",
    benchmark:
        f"{RESULTS}/benchmarks/report.tsv"
    conda:
        conda_env("report")
    params:
        # the report shows the run's configuration: any change but profiling re-renders it
        **rule_params.for_rule("report", config),
    script:
        "../../scripts/report.py"
