import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.db.stages import load_db_stage
from stratopt.pipeline import run_rule

run_rule(snakemake, load_db_stage)
