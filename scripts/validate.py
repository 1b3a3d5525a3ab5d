import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.runtime.rule import run_rule
from stratopt.stages import validate

run_rule(snakemake, validate.run)
