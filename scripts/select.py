from stratopt.pipeline import run_rule
from stratopt.selection import select_rule

run_rule(snakemake, select_rule)
