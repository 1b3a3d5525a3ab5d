"""The compact rows (r, mean, scale) give the bits of the whole W = [r | z] (stratopt.engine.rows)."""

from __future__ import annotations

import numpy as np
import pytest

from stratopt.engine.evaluator import Evaluator
from stratopt.engine.normalise import constant_columns, normalise_columns
from stratopt.engine.rows import Rows


def awkward_values(t: int = 40, n: int = 300, seed: int = 3) -> np.ndarray:
    """P&L with the columns that make normalising delicate."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1000.0, size=(t, n)).round(2)
    values[:, 0] = 0.1  # constant, with a float mean that is not exactly 0.1
    values[:, 1] = 0.0  # all zero
    values[:, 2] = -7.5  # constant and negative: its z is r * 0.0 = -0.0
    values[:, 3] = rng.normal(size=t) * 1e150  # norms near overflow
    values[:, 4] = rng.normal(size=t) * 1e-150  # and near underflow
    values[::2, 5] = 0.0  # one value repeated, but not constant
    return values


def whole_w(values: np.ndarray) -> np.ndarray:
    """W as the evaluator stored it before the compact form: [r | z], constant z = 0."""
    z = normalise_columns(values)
    z[:, constant_columns(values)] = 0.0
    return np.concatenate([values.T, z.T], axis=1)


def test_compact_rows_are_the_whole_matrix_bit_for_bit() -> None:
    values = awkward_values()
    compact = Rows(values, use_corr=True, xp=np, compact=True)
    whole = Rows(values, use_corr=True, xp=np, compact=False)
    expected = whole_w(values)
    every = np.arange(values.shape[1])
    np.testing.assert_array_equal(whole.take(every), expected)
    # +0.0 and -0.0 compare equal: a constant column's z may be either sign of zero
    np.testing.assert_array_equal(compact.take(every), expected)
    np.testing.assert_array_equal(compact.sq_host, whole.sq_host)
    assert compact.w is None and compact.r.nbytes * 2 == expected.nbytes


def test_without_a_penalty_z_is_zero() -> None:
    values = awkward_values()
    rows = Rows(values, use_corr=False, xp=np, compact=True)
    assert not rows.take(np.arange(10))[:, values.shape[0] :].any()
    assert not rows.sq_host.any()


@pytest.mark.parametrize("metric", ["ratio", "guarded ratio", "roi"])
def test_kernels_and_array_path_agree(metric: str) -> None:
    """The statistics and the swappers' running sums bit for bit; the fitness to 1e-12."""
    values = awkward_values()
    rng = np.random.default_rng(11)
    sets = np.stack([rng.choice(values.shape[1], size=12, replace=False) for _ in range(64)])
    sets[0, :6] = [0, 1, 2, 3, 4, 5]  # the delicate columns together
    kernel = Evaluator(values, metric=metric, compiled=True)
    array = Evaluator(values, metric=metric, compiled=False)
    # |sum z|^2 is summed day by day in a kernel, pairwise in NumPy: the penalty's last bit
    np.testing.assert_allclose(kernel.evaluate(sets), array.evaluate(sets), rtol=1e-12)
    stats_k, stats_a = kernel.statistics(sets), array.statistics(sets)
    for key, value in stats_k.items():
        np.testing.assert_array_equal(value, stats_a[key], err_msg=key)
    swap_k, swap_a = kernel.swapper(sets[0]), array.swapper(sets[0])
    outside = np.setdiff1d(np.arange(values.shape[1]), sets[0])[:20]
    positions = np.arange(20) % 12
    np.testing.assert_allclose(
        swap_k.propose_many(positions, outside), swap_a.propose_many(positions, outside), rtol=1e-12
    )
    for pos, new in zip(positions[:5], outside[:5], strict=True):
        assert swap_k.propose(pos, new) == pytest.approx(swap_a.propose(pos, new), rel=1e-12)
        swap_k.accept(pos, new)
        swap_a.accept(pos, new)
        np.testing.assert_array_equal(swap_k._acc, swap_a._acc)  # the running sums: same bits
