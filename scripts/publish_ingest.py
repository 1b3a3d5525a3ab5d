import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.pipeline import run_rule
from stratopt.staging import publish_rule

run_rule(snakemake, publish_rule)
