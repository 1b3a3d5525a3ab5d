"""Rule `synth`: the daily twin, cached under results/twin-data/ (docs/twin.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.synth import synth


def run(smk: Any) -> None:
    synth(
        reference_data=Path(smk.input.metrics).parent,
        out=smk.output[0],
        seed=int(smk.wildcards.seed),
        n_strategies=int(smk.wildcards.n),
    )
