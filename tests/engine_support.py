"""Helpers shared by the engine tests (tests/engine/test_engine_*.py): data and the agreement rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stratopt.data.matrix import Matrix

METRICS = [
    "roi",
    "less max dd",
    "ratio",
    "win percentage",
    "profit factor",
    "expectancy",
    "guarded ratio",
]
#: The promise: tuned and reference agree to 1e-9 relative.
RTOL = 1e-9


def load_sample(path: Path) -> Matrix:
    from stratopt.data.ingest import read_source

    matrix, _ = read_source(path)
    return matrix


def load_twin(shared: Path, n_strategies: int, seed: int = 3) -> Matrix:
    """A prefix of the production-shaped twin (real names and dates)."""
    from stratopt.synth import generate_twin, load_reference

    twin = generate_twin(load_reference(shared), seed, n_strategies)
    return Matrix(
        dates=np.array(twin.dates, dtype="datetime64[D]"),
        days=list(twin.days),
        names=list(twin.names),
        values=twin.values,
    )


def random_sets(rng: np.random.Generator, n_strategies: int, n: int, count: int) -> np.ndarray:
    return np.array([rng.choice(n_strategies, n, replace=False) for _ in range(count)])


def assert_agree(got: np.ndarray, want: np.ndarray, floor: float, what: str = "") -> None:
    """|got - want| <= RTOL * max(|got|, |want|, floor).

    `floor` is the size below which a value counts as zero for the relative
    test: a fitness that cancels to ~0 cannot be compared relatively (the
    two engines sum in different orders, and the correlation penalty is
    exact only to ~1e-15 absolute). Callers pass 1e-3 (so values under 1e-3
    are compared to 1e-12 absolute) or a data-scaled figure; docs/engine.md.
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    both_inf = np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want))
    scale = np.maximum(np.maximum(np.abs(got), np.abs(want)), floor)
    with np.errstate(invalid="ignore"):
        ok = both_inf | (np.abs(got - want) <= RTOL * scale)
    if not ok.all():
        bad = np.flatnonzero(~ok)[:5]
        raise AssertionError(
            f"{what}: {len(np.flatnonzero(~ok))} of {ok.size} disagree; "
            + ", ".join(f"[{i}] tuned={got.flat[i]!r} reference={want.flat[i]!r}" for i in bad)
        )
