# The run report (docs/report.md): one self-contained HTML file from every
# activated stage's outputs, benchmark files and profiles. For `snakemake
# --report`, the rule also writes a copy that links to no other file and
# places each py-spy profile in a folder of its own, so that each is an
# entry with a caption (the select stage's pictures are flagged in optimize.smk).


rule report:
    input:
        stage_targets(),
    output:
        html=result(C.REPORT),
        standalone=report(
            result(C.REPORT_STANDALONE),
            caption="../report/run_report.rst",
            category="Run report",
        ),
        flamegraphs=report(
            directory(result(C.REPORT_FLAMEGRAPHS)),
            patterns=[C.PROFILE_SVG.file_name()],
            caption="../report/flamegraph.rst",
            category="Profiles",
            subcategory="flamegraphs",
            labels={"job": "{job}", "file": "flamegraph (SVG)"},
        ),
        speedscope=report(
            directory(result(C.REPORT_SPEEDSCOPE)),
            patterns=[C.PROFILE_SPEEDSCOPE.file_name()],
            caption="../report/speedscope.rst",
            category="Profiles",
            subcategory="speedscope profiles",
            labels={"job": "{job}", "file": "speedscope (JSON)"},
        ),
    log:
        log_of("report"),
    benchmark:
        benchmark_of("report")
    conda:
        conda_env("report")
    params:
        # the report shows the run's configuration: any change but profiling re-renders it
        **rule_params.for_rule("report", config),
    script:
        "../../scripts/report.py"
