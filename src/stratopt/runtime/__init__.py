"""How a stage runs: the rule bridge, its context and logs, atomic writes, profiling."""
