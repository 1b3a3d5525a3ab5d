from stratopt.db.stages import prepare_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, prepare_stage)
