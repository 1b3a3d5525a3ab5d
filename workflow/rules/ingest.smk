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
        matrix=staged("matrix.parquet"),
        report=staged("ingest.json"),
    log:
        f"{RESULTS}/logs/ingest.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest.tsv"
    conda:
        conda_env("ingest")
    script:
        "../../scripts/ingest.py"


rule publish_ingest:
    input:
        matrix=staged("matrix.parquet"),
        report=staged("ingest.json"),
    output:
        matrix=f"{RESULTS}/matrix.parquet",
        report=f"{RESULTS}/ingest.json",
    log:
        f"{RESULTS}/logs/publish_ingest.log",
    benchmark:
        f"{RESULTS}/benchmarks/publish_ingest.tsv"
    localrule: True
    conda:
        conda_env("publish_ingest")
    script:
        "../../scripts/publish_ingest.py"
