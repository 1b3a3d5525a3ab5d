# The database stage (docs/database.md): load the matrix into the configured
# engine (a DuckDB file under RESULTS by default, or a HeavyDB server), then
# filter, compute metrics and ULTA, and export the prepared matrix.
# The DuckDB file is an output of load_db only when DuckDB is the engine; for
# prepare it is ancient(): later stages write result tables into it, which
# must not force prepare to rerun (load.json carries the ordering).

DUCKDB_FILE = (
    {"db": f"{RESULTS}/stratopt.duckdb"}
    if config["database"]["backend"] == "duckdb"
    else {}
)


rule load_db:
    input:
        matrix=f"{RESULTS}/matrix.parquet",
    output:
        **DUCKDB_FILE,
        report=f"{RESULTS}/load.json",
    log:
        f"{RESULTS}/logs/load_db.log",
    benchmark:
        f"{RESULTS}/benchmarks/load_db.tsv"
    conda:
        conda_env("load_db", "database")
    script:
        "../../scripts/load_db.py"


rule prepare:
    input:
        **{name: ancient(path) for name, path in DUCKDB_FILE.items()},
        load=f"{RESULTS}/load.json",
    output:
        prepared=f"{RESULTS}/prepared.parquet",
        metrics_csv=f"{RESULTS}/strategy_metrics.csv",
        metrics_parquet=f"{RESULTS}/strategy_metrics.parquet",
        inversion_md=f"{RESULTS}/inversion_report.md",
        inversion_parquet=f"{RESULTS}/inversion.parquet",
        report=f"{RESULTS}/prepare.json",
    log:
        f"{RESULTS}/logs/prepare.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare.tsv"
    conda:
        conda_env("prepare", "database")
    script:
        "../../scripts/prepare.py"


rule store_results:
    input:
        **{name: ancient(path) for name, path in DUCKDB_FILE.items()},
        portfolios=f"{RESULTS}/portfolios.parquet",
    output:
        report=f"{RESULTS}/stored.json",
    log:
        f"{RESULTS}/logs/store_results.log",
    benchmark:
        f"{RESULTS}/benchmarks/store_results.tsv"
    conda:
        conda_env("store_results", "database")
    script:
        "../../scripts/store_results.py"
