# Out-of-sample validation (docs/validation.md). One job: per fold, ULTA and the
# configured search on the training sessions of matrix.parquet (the data before
# ULTA), the pick scored on the test sessions. It needs no optimize output, so it
# runs beside the optimize jobs; select reads its verdict to choose the best size.


rule validate:
    input:
        matrix=f"{RESULTS}/matrix.parquet",
    output:
        json=f"{RESULTS}/validation.json",
        oos=f"{RESULTS}/validation_oos.parquet",
    log:
        f"{RESULTS}/logs/validate.log",
    benchmark:
        f"{RESULTS}/benchmarks/validate.tsv"
    conda:
        conda_env("validate")
    resources:
        gpu=1 if config["optimize"]["backend"] == "cupy" else 0,
    params:
        **rule_params.for_rule("validate", config),
    script:
        "../../scripts/validate.py"
