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
        matrix=result(C.MATRIX),
    output:
        **duckdb_file(C.LOAD_DB_FILE),
        report=result(C.LOAD),
    log:
        log_of("load_db"),
    benchmark:
        benchmark_of("load_db")
    conda:
        conda_env("load_db", "database")
    params:
        **rule_params.for_rule("load_db", config),
    script:
        "../../scripts/load_db.py"


rule prepare:
    input:
        **duckdb_file(C.LOAD_DB_FILE),
        load=result(C.LOAD),
    output:
        **duckdb_file(C.PREPARE_DB_FILE),
        prepared=result(C.PREPARED),
        metrics_csv=result(C.METRICS_CSV),
        metrics_parquet=result(C.METRICS),
        inversion_md=result(C.INVERSION_MD),
        inversion_parquet=result(C.INVERSION),
        report=result(C.PREPARE),
    log:
        log_of("prepare"),
    benchmark:
        benchmark_of("prepare")
    conda:
        conda_env("prepare", "database")
    params:
        **rule_params.for_rule("prepare", config),
    script:
        "../../scripts/prepare.py"


rule store_results:
    input:
        **duckdb_file(C.PREPARE_DB_FILE),
        portfolios=result(C.PORTFOLIOS),
        zones=result(C.ZONES),
    output:
        **duckdb_file(C.RESULTS_DB),
        report=result(C.STORED),
    log:
        log_of("store_results"),
    benchmark:
        benchmark_of("store_results")
    conda:
        conda_env("store_results", "database")
    params:
        **rule_params.for_rule("store_results", config),
    script:
        "../../scripts/store_results.py"
