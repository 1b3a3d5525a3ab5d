from stratopt.correlation.stage import shard_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, shard_stage)
