import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.pipeline import run_rule
from stratopt.synth import synth_stage

run_rule(snakemake, synth_stage)
