from stratopt.pipeline import run_rule
from stratopt.report import report_rule

run_rule(snakemake, report_rule)
