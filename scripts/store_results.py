import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.db.stages import store_results_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, store_results_stage)
