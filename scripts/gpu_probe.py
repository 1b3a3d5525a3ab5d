from stratopt.gpu_probe import gpu_probe
from stratopt.pipeline import run_rule

run_rule(snakemake, gpu_probe)
