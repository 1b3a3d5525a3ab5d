import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.pipeline import run_rule
from stratopt.validation.stage import validate_rule

run_rule(snakemake, validate_rule)
