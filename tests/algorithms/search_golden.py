"""The searches whose results the algorithm settings must not change, and their digests.

`python tests/algorithms/search_golden.py OUT.json` writes the digest of every
case below; tests/algorithms/data/search_golden.json was written this way by
the code before the settings became dataclasses (commit 5155c9c), so that
test_algorithm_settings.py proves the defaults give the same bits. Its six GA
entries were written again when the GA's crossover stopped depending on the
CPU (2026-12-01: moves.pick_from_union), its four default ACO entries when
the ants began to draw by rejection (2026-12-01: sum_tree.sample_ants, the
same law), its four default BO entries when its Thompson draws began to
cover a shortlist (2026-12-01: `shortlist`; test_algorithm_settings.py keeps
the earlier four for `shortlist: null`); the 34 others are unchanged.
test_cpu_independence.py reruns all 48 without the CPU's SIMD code.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ALGORITHMS = ("aco", "bo", "de", "ga", "hc", "pso", "rs", "sa")
#: (preset, budget): None = the pipeline's rule (G x P, or the legacy counts)
RUNS = (("default", None), ("legacy", None), ("default", 2000))
SIZES = (10, 60)
OPTIMIZE = {"generations": 20, "population": 30, "mutation_rate": 0.1, "seed": 42}


def cases() -> Iterator[tuple[str, str, int | None, int]]:
    for name in ALGORITHMS:
        for preset, budget in RUNS:
            for size in SIZES:
                yield name, preset, budget, size


def case_id(name: str, preset: str, budget: int | None, size: int) -> str:
    return f"{name}-{preset}-{budget or 'rule'}-{size}"


def digest(record: Mapping[str, Any]) -> str:
    """sha256 of a search record without its wall time (floats by repr: exact)."""
    kept = {k: v for k, v in record.items() if k != "seconds"}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def optimize_config(preset: str, budget: int | None) -> dict[str, Any]:
    return {"optimize": {**OPTIMIZE, "preset": preset, "budget": budget}}


def run_cases(matrix: Any, config_for: Any) -> dict[str, dict[str, Any]]:
    """Every case's fitness and digest; `config_for(preset, budget)` gives the config."""
    from stratopt.search.runner import OptimizeSettings, build_evaluator, search_one

    out: dict[str, dict[str, Any]] = {}
    evaluators: dict[str, Any] = {}  # one per objective: a search leaves no state in it
    for name, preset, budget, size in cases():
        settings = OptimizeSettings.from_config(config_for(preset, budget))
        key = repr((settings.evaluator_kwargs(), settings.backend))
        if key not in evaluators:
            evaluators[key] = build_evaluator(matrix, settings)
        record = search_one(evaluators[key], name, size, settings)
        out[case_id(name, preset, budget, size)] = {
            "fitness": record["fitness"],
            "digest": digest(record),
        }
    return out


def main(out: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import SAMPLE_CSV
    from search_support import prepared_sample

    result = run_cases(prepared_sample(SAMPLE_CSV), optimize_config)
    Path(out).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
