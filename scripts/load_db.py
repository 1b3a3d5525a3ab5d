from stratopt.db.stages import load_db_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, load_db_stage)
