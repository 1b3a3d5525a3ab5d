"""The `validation:` section of the config, checked, with its defaults resolved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from stratopt.errors import ConfigError

SCHEMES = ("rolling", "expanding", "static")


@dataclass(frozen=True)
class ValidationSettings:
    """How the sessions are split and what the pick is compared with (docs/validation.md)."""

    enabled: bool = True
    scheme: str = "rolling"
    train: int = 40
    test: int = 14
    step: int | None = None  # None: the test length (adjacent, disjoint test periods)
    sizes: tuple[int, ...] = ()  # empty: the smallest, middle and largest optimize size
    random_portfolios: int = 1000
    seed: int = 42
    percentile_bar: float = 90.0
    spearman_near_zero: float = 0.2
    algorithms: tuple[str, ...] = ()  # empty: the optimize algorithms

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ConfigError(
                f"validation.scheme must be one of {', '.join(SCHEMES)}, not {self.scheme!r}"
            )
        if self.train < 2:
            raise ConfigError(f"validation.train must be at least 2 sessions (got {self.train})")
        if self.test < 1:
            raise ConfigError(f"validation.test must be at least 1 session (got {self.test})")
        if self.step is not None and self.step < self.test:
            raise ConfigError(
                f"validation.step {self.step} is shorter than validation.test {self.test}: "
                "test periods would overlap, and the stitched out-of-sample series needs "
                "each session once"
            )
        if self.random_portfolios < 1:
            raise ConfigError(
                f"validation.random_portfolios must be >= 1 (got {self.random_portfolios})"
            )
        if not 0 < self.percentile_bar <= 100:
            raise ConfigError(
                f"validation.percentile_bar must be in (0, 100] (got {self.percentile_bar})"
            )
        if any(s < 1 for s in self.sizes):
            raise ConfigError(f"validation.sizes must be >= 1 (got {list(self.sizes)})")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ValidationSettings:
        """From the pipeline config; empty sizes and algorithms follow the optimize section."""
        val = dict(config.get("validation") or {})
        opt = dict(config.get("optimize") or {})
        sizes = tuple(int(s) for s in val.get("sizes") or ())
        if not sizes:
            sizes = default_sizes(int(opt.get("min_size", 35)), int(opt.get("max_size", 100)))
        algorithms = tuple(str(a) for a in val.get("algorithms") or ())
        if not algorithms:
            algorithms = tuple(
                str(a)
                for a in opt.get("algorithms") or ("ga", "pso", "sa", "de", "aco", "hc", "bo", "rs")
            )
        step = val.get("step")
        return cls(
            enabled=bool(val.get("enabled", cls.enabled)),
            scheme=str(val.get("scheme", cls.scheme)),
            train=int(val.get("train", cls.train)),
            test=int(val.get("test", cls.test)),
            step=None if step is None else int(step),
            sizes=tuple(sorted(set(sizes))),
            random_portfolios=int(val.get("random_portfolios", cls.random_portfolios)),
            seed=int(val.get("seed", cls.seed)),
            percentile_bar=float(val.get("percentile_bar", cls.percentile_bar)),
            spearman_near_zero=float(val.get("spearman_near_zero", cls.spearman_near_zero)),
            algorithms=algorithms,
        )

    @property
    def effective_step(self) -> int:
        return self.test if self.step is None else self.step

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        d["algorithms"] = list(self.algorithms)
        d["step"] = self.effective_step
        return d


def default_sizes(min_size: int, max_size: int) -> tuple[int, ...]:
    """Three sizes spread over the searched range: the smallest, the middle, the largest."""
    return tuple(sorted({min_size, (min_size + max_size) // 2, max_size}))


def fitting_sizes(sizes: Sequence[int], n_strategies: int) -> tuple[list[int], list[int]]:
    """(sizes that fit the universe, sizes larger than it)."""
    return [s for s in sizes if s <= n_strategies], [s for s in sizes if s > n_strategies]
