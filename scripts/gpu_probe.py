import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.runtime.rule import run_job
from stratopt.stages import gpu_probe

run_job(snakemake, gpu_probe.run)
