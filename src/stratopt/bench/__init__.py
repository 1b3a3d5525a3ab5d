"""Every benchmark of stratopt: `stratopt bench AREA`, one module per area.

Each module here with `register(subparsers)` is an area (ingest, fitness, db,
correlation, search, synth, report, profiling, slurm, layout, workload);
timing.py measures one piece of work in a child process. The side-by-side
benchmark of the legacy baseline against the tuned pipeline, which the
`workload` area and the Snakemake rule `bench` drive, is the subpackage
sidebyside/.
"""
