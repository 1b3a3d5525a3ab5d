from stratopt.pipeline import run_rule
from stratopt.synth import synth_stage

run_rule(snakemake, synth_stage)
