from stratopt.correlation.stage import summary_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, summary_stage)
