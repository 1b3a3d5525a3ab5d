# stratopt: CSV -> Parquet -> database -> correlation shards -> search -> report.
# Stages live in workflow/rules/*.smk; logic lives in the stratopt package.
from snakemake.utils import min_version

min_version("9.20")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/database.smk"
include: "workflow/rules/synth.smk"
include: "workflow/rules/hpc.smk"
include: "workflow/rules/correlation.smk"
include: "workflow/rules/optimize.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/bench.smk"
include: "workflow/rules/chain.smk"


rule all:
    default_target: True
    input:
        all_targets(),
