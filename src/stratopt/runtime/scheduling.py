"""How a local run shares its cores: the search first, then the jobs beside it.

The optimize job is the run's critical path and wants `optimize.workers`
cores at once (two by default). Snakemake's greedy scheduler starts whatever
fits in a free core and never keeps one for a job that is waiting: on two
cores, when prepare ended while validate still held the other core, the
correlation shard took the free one, and optimize waited until both were free
again (2.2 s of the default run's 21.9 s on the twin, timeline of 2026-12-01).
Validate and the correlation shards need nothing from optimize, nor it from
them, so the workflow lets at most `cores - workers` of them (at least one)
run at a time: on two cores the shard waits for validate, then for optimize,
and runs beside select instead. With more cores the limit binds less, and on
a cluster (`--jobs`) it is not set at all.
"""

from __future__ import annotations

from typing import Any

#: The resource the side jobs (validate, correlation_shard) take one of.
SIDE_JOBS = "side_jobs"


def side_job_slots(cores: int, workers: int) -> int:
    """Side jobs that may run at once on `cores` local cores beside a search of `workers`."""
    return max(1, cores - workers)


def register_side_jobs(workflow: Any, workers: int) -> int | None:
    """Give the workflow its `side_jobs` limit for a local run (the slots), unless the
    command line sets one (`--resources side_jobs=N` wins) or the run is on a cluster."""
    resources = workflow.global_resources
    cores = resources["_cores"].value
    if not isinstance(cores, int) or resources["_nodes"].value is not None:
        return None
    if SIDE_JOBS in resources:
        return None
    slots = side_job_slots(cores, workers)
    workflow.register_resource(SIDE_JOBS, slots)
    return slots
