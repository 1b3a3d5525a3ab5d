rule ingest:
    input:
        source_path(),
    output:
        matrix=f"{RESULTS}/matrix.parquet",
        report=f"{RESULTS}/ingest.json",
    log:
        f"{RESULTS}/logs/ingest.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest.tsv"
    conda:
        conda_env("ingest")
    script:
        "../../scripts/ingest.py"
