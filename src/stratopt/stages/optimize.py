"""Rule `optimize`: one algorithm (the wildcard) over every size (docs/algorithms.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.runtime.rule_params import optimize_config
from stratopt.search.optimize import optimize
from stratopt.search.settings import OptimizeSettings


def run(smk: Any) -> None:
    """All sizes with smk.threads workers; settings from the rule's params (search, objective)."""
    algorithm = smk.wildcards.algorithm
    settings = OptimizeSettings.from_config(
        optimize_config(smk.params.search, smk.params.objective)
    )
    out = Path(smk.output[0])
    optimize(
        smk.input[0],
        [algorithm],
        settings,
        out.parent,
        workers=max(1, int(smk.threads)),
        progress=False,
        outputs={algorithm: out},
    )
