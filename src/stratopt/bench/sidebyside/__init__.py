"""The side-by-side benchmark: the legacy baseline and the tuned pipeline on one input.

`stratopt bench workload NAME` (the workload area of stratopt.bench) and the
Snakemake rule `bench` drive it; docs/benchmark.md explains the shape of
bench.json and the figures measured.

Modules: workloads (the config files), baseline and tuned (the stages of each side),
reference_evaluator (the legacy search over the plain reference fitness),
equivalence (baseline == tuned, checked in the same run), document (bench.json
and the table), runner (the alternating repetitions). Each stage runs in
its own child process, measured by stratopt.bench.timing.run_stage.
"""
