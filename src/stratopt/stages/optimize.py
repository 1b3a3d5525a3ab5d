"""Rule `optimize`: every algorithm its outputs name, every size, in one job (docs/algorithms.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.runtime.rule_params import optimize_config
from stratopt.search.optimize import optimize
from stratopt.search.settings import OptimizeSettings


def run(smk: Any) -> None:
    """runs/{algorithm}.json per output, smk.threads workers of the configured pool.

    The settings come from the rule's params (search, objective); the pool kind, like
    the job's threads, changes no result, so it is read from the config and is no
    param: switching it reruns nothing (stratopt.runtime.rule_params).
    """
    outputs = {Path(path).stem: Path(path) for path in smk.output}
    settings = OptimizeSettings.from_config(
        optimize_config(smk.params.search, smk.params.objective)
    )
    optimize(
        smk.input[0],
        list(outputs),
        settings,
        next(iter(outputs.values())).parent,
        workers=max(1, int(smk.threads)),
        pool=str(smk.config.get("optimize", {}).get("pool", "thread")),
        progress=False,
        outputs=outputs,
    )
