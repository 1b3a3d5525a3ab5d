import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.ingest import publish_rule
from stratopt.pipeline import run_rule

run_rule(snakemake, publish_rule)
