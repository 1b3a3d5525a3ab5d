# Ingest in two steps (docs/ingest.md, "Through the pipeline"): `ingest` reads
# and validates the source into a staging folder, `publish_ingest` links the
# result into place. Snakemake deletes a failed job's outputs; only the staged
# copies are the failing job's, so the last good matrix.parquet and ingest.json
# survive a failed rerun, and the missing staged outputs keep the run (and
# everything downstream) pending until the source is fixed.


rule ingest:
    input:
        source_path(),
    output:
        matrix=f"{RESULTS}/ingest/staged/matrix.parquet",
        report=f"{RESULTS}/ingest/staged/ingest.json",
    log:
        f"{RESULTS}/logs/ingest.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest.tsv"
    conda:
        "../../envs/ingest.yaml"
    script:
        "../../scripts/ingest.py"


rule publish_ingest:
    input:
        matrix=f"{RESULTS}/ingest/staged/matrix.parquet",
        report=f"{RESULTS}/ingest/staged/ingest.json",
    output:
        matrix=f"{RESULTS}/matrix.parquet",
        report=f"{RESULTS}/ingest.json",
    log:
        f"{RESULTS}/logs/publish_ingest.log",
    benchmark:
        f"{RESULTS}/benchmarks/publish_ingest.tsv"
    localrule: True
    conda:
        "../../envs/ingest.yaml"
    script:
        "../../scripts/publish_ingest.py"
