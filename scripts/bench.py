from stratopt.bench.stage import bench_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, bench_stage)
