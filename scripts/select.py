import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.pipeline import run_rule
from stratopt.zone_outputs import select_with_zones

run_rule(snakemake, select_with_zones)
