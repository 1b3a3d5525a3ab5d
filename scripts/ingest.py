from stratopt.ingest import ingest_rule
from stratopt.pipeline import run_rule

run_rule(snakemake, ingest_rule)
