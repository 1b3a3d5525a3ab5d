"""Rule `gpu_probe`: what the job saw of its GPU allocation (docs/hpc.md)."""

from __future__ import annotations

from typing import Any

from stratopt.engine.gpu_probe import write_probe


def run(smk: Any) -> None:
    write_probe(smk.output[0])
