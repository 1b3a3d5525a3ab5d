# The database stage (docs/database.md): load the matrix into the configured
# engine, then filter, compute metrics and ULTA, and export the prepared matrix.
# With DuckDB every rule that writes tables has its own database file: load_db
# writes db/load.duckdb; prepare copies it to db/prepare.duckdb and adds its
# tables; store_results copies that to stratopt.duckdb (the complete database
# users open) and adds the chosen portfolios. Each rule writes only its own
# outputs, so a rerun of one never touches another's. HeavyDB is a server: the
# rules there have only their JSON outputs.


rule load_db:
    input:
        matrix=f"{RESULTS}/matrix.parquet",
    output:
        **duckdb_file("db/load.duckdb"),
        report=f"{RESULTS}/load.json",
    log:
        f"{RESULTS}/logs/load_db.log",
    benchmark:
        f"{RESULTS}/benchmarks/load_db.tsv"
    conda:
        conda_env("load_db", "database")
    params:
        **rule_params.for_rule("load_db", config),
    script:
        "../../scripts/load_db.py"


rule prepare:
    input:
        **duckdb_file("db/load.duckdb"),
        load=f"{RESULTS}/load.json",
    output:
        **duckdb_file("db/prepare.duckdb"),
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
    params:
        **rule_params.for_rule("prepare", config),
    script:
        "../../scripts/prepare.py"


rule store_results:
    input:
        **duckdb_file("db/prepare.duckdb"),
        portfolios=f"{RESULTS}/portfolios.parquet",
        zones=f"{RESULTS}/zones.json",
    output:
        **duckdb_file("stratopt.duckdb"),
        report=f"{RESULTS}/stored.json",
    log:
        f"{RESULTS}/logs/store_results.log",
    benchmark:
        f"{RESULTS}/benchmarks/store_results.tsv"
    conda:
        conda_env("store_results", "database")
    params:
        **rule_params.for_rule("store_results", config),
    script:
        "../../scripts/store_results.py"
