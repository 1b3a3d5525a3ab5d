# Out-of-sample validation (docs/validation.md). One job: per fold, ULTA and the
# configured search on the training sessions of matrix.parquet (the data before
# ULTA), the pick scored on the test sessions. It needs no optimize output, so it
# runs beside the optimize jobs; select reads its verdict to choose the best size.


rule validate:
    input:
        matrix=result(C.MATRIX),
    output:
        json=result(C.VALIDATION),
        oos=result(C.VALIDATION_OOS),
    log:
        log_of("validate"),
    benchmark:
        benchmark_of("validate")
    conda:
        conda_env("validate")
    resources:
        **validate_resources(),
    params:
        **rule_params.for_rule("validate", config),
    script:
        "../../scripts/validate.py"
