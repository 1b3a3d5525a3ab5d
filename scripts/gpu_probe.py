import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.gpu_probe import gpu_probe
from stratopt.pipeline import run_rule

run_rule(snakemake, gpu_probe)
