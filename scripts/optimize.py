from stratopt.optimize import optimize_rule
from stratopt.pipeline import run_rule

run_rule(snakemake, optimize_rule)
