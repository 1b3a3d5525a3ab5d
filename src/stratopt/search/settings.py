"""The settings of a search run: everything that decides a result, and its random streams.

Work unit: one (algorithm, size) search. Its random stream comes from
SeedSequence([seed, crc32(algorithm), size]), so a result depends on the seed,
the algorithm and the size only: never on the worker count, the order the
pool runs the units in, or whether the run was interrupted and resumed.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from stratopt.errors import ConfigError


@dataclass(frozen=True)
class OptimizeSettings:
    """Everything that decides a search result (and so goes into the fingerprint)."""

    preset: str = "default"
    min_size: int = 35
    max_size: int = 100
    generations: int = 100
    population: int = 30
    mutation_rate: float = 0.1
    seed: int = 42
    metric: str = "guarded ratio"
    drawdown_threshold: float = 0.0
    drawdown_floor: float | None = None
    balanced: bool = False
    penalty_factor: float = 1.0
    backend: str = "numpy"
    budget: int | None = None
    #: each algorithm's own settings as configured (`optimize.params.<algorithm>`)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preset not in ("default", "legacy"):
            raise ConfigError(f"optimize.preset must be 'default' or 'legacy', not {self.preset!r}")
        if self.min_size < 1 or self.max_size < self.min_size:
            raise ConfigError(
                f"optimize sizes {self.min_size}..{self.max_size}: need 1 <= min_size <= max_size"
            )
        if self.seed < 0:
            raise ConfigError(f"optimize.seed must be >= 0 (got {self.seed})")
        if self.budget is not None and self.budget < 1:
            raise ConfigError(f"an evaluation budget must be >= 1 (got {self.budget})")
        if self.drawdown_floor is not None and not self.drawdown_floor >= 0:
            raise ConfigError(f"drawdown_floor must be >= 0 rupees (got {self.drawdown_floor})")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> OptimizeSettings:
        """From the pipeline config (top-level metric keys, the `optimize` section).

        The evaluation budget follows the pipeline's rule (algorithms.base.resolve_budget):
        `optimize.budget`, else G x P for every algorithm with the default preset.
        """
        from stratopt.algorithms.base import resolve_budget

        opt = dict(config.get("optimize", {}))
        floor = config.get("drawdown_floor")
        values = {
            "preset": opt.get("preset", cls.preset),
            "min_size": int(opt.get("min_size", cls.min_size)),
            "max_size": int(opt.get("max_size", cls.max_size)),
            "generations": int(opt.get("generations", cls.generations)),
            "population": int(opt.get("population", cls.population)),
            "mutation_rate": float(opt.get("mutation_rate", cls.mutation_rate)),
            "seed": int(opt.get("seed", cls.seed)),
            "metric": str(config.get("metric", cls.metric)),
            "drawdown_threshold": float(config.get("drawdown_threshold", cls.drawdown_threshold)),
            "drawdown_floor": None if floor is None else float(floor),
            "balanced": bool(config.get("balanced", cls.balanced)),
            "penalty_factor": float(config.get("penalty_factor", cls.penalty_factor)),
            "backend": str(opt.get("backend", cls.backend)),
            "params": {
                str(name).lower(): dict(own or {})
                for name, own in (opt.get("params") or {}).items()
            },
        }
        values.update(overrides)
        values["budget"] = resolve_budget(
            values["preset"],
            values.get("budget", opt.get("budget")),
            values["generations"],
            values["population"],
        )
        return cls(**values)

    def search_params(self, algorithm: str) -> dict[str, Any]:
        """An algorithm plugin's `params`: G, P, m and its own settings."""
        return {
            "generations": self.generations,
            "population": self.population,
            "mutation_rate": self.mutation_rate,
            **dict(self.params.get(algorithm.lower()) or {}),
        }

    def evaluator_kwargs(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "drawdown_threshold": self.drawdown_threshold,
            "drawdown_floor": self.drawdown_floor,
            "balanced": self.balanced,
            "penalty_factor": self.penalty_factor,
        }

    def sizes(self, n_strategies: int) -> tuple[list[int], list[int]]:
        """(sizes to run, sizes skipped because they exceed N)."""
        wanted = range(self.min_size, self.max_size + 1)
        return [n for n in wanted if n <= n_strategies], [n for n in wanted if n > n_strategies]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = {name: dict(own) for name, own in self.params.items()}
        return d

    def for_algorithm(self, algorithm: str) -> dict[str, Any]:
        """What decides `algorithm`'s results: the shared settings and its own, defaults
        filled in (so an omitted setting and its default give the same fingerprint)."""
        from stratopt.algorithms import algorithm_settings

        d = self.to_dict()
        d["params"] = algorithm_settings(algorithm, self.params.get(algorithm.lower()))
        return d


def size_seed(seed: int, algorithm: str, size: int) -> np.random.SeedSequence:
    """The random stream of one (algorithm, size) unit: independent of scheduling."""
    return np.random.SeedSequence([int(seed), zlib.crc32(algorithm.lower().encode()), int(size)])
