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


# The terminal, before and after (stratopt.data.ingest_summary, stratopt.report.answer):
# what was read (when the data is not read again: else rule publish_ingest shows it),
# and the answer with the paths of the files to open.
from stratopt.data.ingest_summary import summary_if_current
from stratopt.report.answer import emit, format_answer
from stratopt.runtime.snakemake_exit import cancel_scheduler_timers


onstart:
    known = summary_if_current(result(C.INGEST), source_path(), config)
    if known:
        emit(
            f"\n{known}\n  (read by an earlier run; the source is unchanged since)\n"
        )


# Once the scheduler has returned, its pending 1 s wake-up need not delay the exit.
onsuccess:
    cancel_scheduler_timers()
    emit(f"\n{format_answer(RESULTS)}")


onerror:
    cancel_scheduler_timers()
