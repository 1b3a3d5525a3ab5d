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
        "../../envs/validate.yaml"
    resources:
        gpu=1 if config["optimize"]["backend"] == "cupy" else 0,
    params:
        # every setting that decides a fold's pick or its score: a change reruns it
        validation=config["validation"],
        search={k: v for k, v in config["optimize"].items() if k != "workers"},
        objective={
            k: config[k]
            for k in (
                "metric",
                "drawdown_threshold",
                "drawdown_floor",
                "balanced",
                "penalty_factor",
                "ulta",
                "date_range",
                "flag_drawdown_below",
            )
        },
    script:
        "../../scripts/validate.py"
