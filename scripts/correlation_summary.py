import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # the package, also in a conda env

from stratopt.runtime.rule import run_job
from stratopt.stages import correlation_summary

run_job(snakemake, correlation_summary.run)
