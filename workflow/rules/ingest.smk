# Ingest in two steps (stratopt.runtime.staging; docs/ingest.md): `ingest` reads and
# validates the source into a staging folder named by the source's stamp,
# `publish_ingest` links the result into place. A failed ingest loses only its
# staged files (Snakemake deletes a failed job's outputs): the last good
# matrix.parquet and ingest.json stay, and since a changed source changes
# publish_ingest's input, the run (and all after it) stays pending until the
# source reads cleanly.


rule ingest:
    input:
        source_path(),
    output:
        matrix=staged(C.MATRIX),
        report=staged(C.INGEST),
    log:
        log_of("ingest"),
    benchmark:
        benchmark_of("ingest")
    conda:
        conda_env("ingest")
    script:
        "../../scripts/ingest.py"


rule publish_ingest:
    input:
        matrix=staged(C.MATRIX),
        report=staged(C.INGEST),
    output:
        matrix=result(C.MATRIX),
        report=result(C.INGEST),
    log:
        log_of("publish_ingest"),
    benchmark:
        benchmark_of("publish_ingest")
    localrule: True
    conda:
        conda_env("publish_ingest")
    script:
        "../../scripts/publish_ingest.py"
