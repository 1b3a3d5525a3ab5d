"""How a local run shares its cores: the search first, then the jobs beside it.

The optimize job is the run's critical path and wants `optimize.workers`
cores at once (two by default). Snakemake's greedy scheduler starts whatever
fits in a free core and never keeps one for a job that is waiting: on two
cores, when prepare ended while validate still held the other core, the
correlation shard took the free one, and optimize waited until both were free
again (2.2 s of the default run's 21.9 s on the twin, timeline of 2026-12-01).

Validate and the correlation shards need nothing from optimize, nor it from
them. Where validate, a shard and the search cannot run together (fewer than
workers + 2 cores), the workflow makes validate and the shards exclusive: a
`side_jobs` resource of one unit per core, every unit for validate, one for
each shard. The shards still run side by side, and beside the search; a shard
no longer starts while validate runs, so on two cores it waits for validate,
then for the search that prepare made ready, and runs beside select instead.
With more cores nothing is limited, and on a cluster (`--jobs`) neither.
"""

from __future__ import annotations

from typing import Any

#: The resource validate takes every unit of and each correlation shard one.
SIDE_JOBS = "side_jobs"


def side_job_slots(cores: int, workers: int) -> int | None:
    """`side_jobs` units for a local run: one per core where validate, a shard and a
    search of `workers` threads do not fit together, else None (no limit)."""
    return cores if cores < workers + 2 else None


def register_side_jobs(workflow: Any, workers: int) -> int | None:
    """Give a local run its `side_jobs` units; the units in effect (`--resources
    side_jobs=N` wins), None when they are unlimited."""
    resources = workflow.global_resources
    if SIDE_JOBS in resources:
        value = resources[SIDE_JOBS].value
        return value if isinstance(value, int) else None
    cores = resources["_cores"].value
    if not isinstance(cores, int) or resources["_nodes"].value is not None:
        return None
    slots = side_job_slots(cores, workers)
    if slots is not None:
        workflow.register_resource(SIDE_JOBS, slots)
    return slots


#: Portfolio sizes from which select draws its pictures on two threads
#: (stratopt.selection.pictures.draw_all): below, a two-thread select would wait
#: for a second free core (on one-size it runs beside correlation_summary) to
#: save a few tens of milliseconds.
PICTURE_THREADS_FROM_SIZES = 8


def select_threads(min_size: int, max_size: int, shards_beside: bool = False) -> int:
    """The select job's threads: 2 when it draws pictures for enough sizes, else 1.

    `shards_beside`: the correlation shards become ready with select, when the
    search ends, because the search held every core (a local run on few cores,
    side_job_slots not None). Then a one-thread select runs beside a shard
    instead of waiting for it to free a second core: on the default run, two
    cores, the shard (2.4 s) and then select on two threads (1.35 s) took 3.8 s
    after the search, where both side by side end with the shard.
    """
    if shards_beside:
        return 1
    return 2 if max_size - min_size + 1 >= PICTURE_THREADS_FROM_SIZES else 1


#: Search units (algorithms x portfolio sizes) from which the optimize job runs on
#: its `optimize.workers` threads. Below, the job's start (imports, the matrix, the
#: kernels: ~0.7 s on the twin) outweighs its searches, which threads do not
#: speed up: `stratopt optimize` on the twin, legacy presets, eight algorithms,
#: 1 vs 2 workers, wall s (2026-12-02): 1 size 0.96-1.13 vs 0.91-0.98, 3 sizes
#: 1.08-1.27 vs 1.22-1.29, 8 sizes 1.49-1.60 vs 1.36-1.62, 16 sizes 2.08-2.28
#: vs 1.64-1.81. A one-thread search leaves the other core to a correlation
#: shard beside it (one-size: 8.3 -> 7.1 s, docs/performance.md).
SEARCH_THREADS_FROM_UNITS = 64


def optimize_threads(workers: int, algorithms: int, min_size: int, max_size: int) -> int:
    """The optimize job's threads: its workers when there are enough units, else 1."""
    units = algorithms * (max_size - min_size + 1)
    return workers if units >= SEARCH_THREADS_FROM_UNITS else 1
