"""One fold's strategy universe: ULTA decided on its training sessions only.

ULTA inverts a strategy whose total over the sessions is negative. Decided on
all 82 sessions it looks ahead: a strategy that lost in the test period gets
inverted and "wins" there. Here the decision uses the training sessions
alone, and the same signs are then applied to the test sessions, so what
the test period sees is exactly what a user deciding at the end of training
would have held. Columns keep the matrix's order (inverted ones are renamed
`<name>_inv` but not moved: the order only has to be the same within a fold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.data.matrix import Matrix
from stratopt.validation.folds import Fold


@dataclass(frozen=True)
class FoldUniverse:
    """Training and test P&L of one fold, with the training-decided signs applied."""

    fold: Fold
    train: np.ndarray  # (train sessions, N) float64, C-ordered
    test: np.ndarray  # (test sessions, N) float64, C-ordered
    inverted: np.ndarray  # bool (N,): inverted on the training sessions
    names: list[str]
    labels: list[str]

    @property
    def n_strategies(self) -> int:
        return self.train.shape[1]


def train_only_inversion(train_values: np.ndarray) -> np.ndarray:
    """ULTA's decisions (stratopt.engine.ulta) from the training sessions alone: bool per column."""
    from stratopt.engine.ulta import inversion_decisions

    return np.asarray(inversion_decisions(train_values)["invert"], dtype=bool)


def fold_universe(matrix: Matrix, fold: Fold, ulta: bool) -> FoldUniverse:
    """The fold's training and test matrices; nothing of the test sessions is read for them."""
    # copies: a row slice of the (T, N) matrix is a view, and the signs are applied in place
    train = np.array(matrix.values[fold.train], dtype=np.float64, order="C", copy=True)
    test = np.array(matrix.values[fold.test], dtype=np.float64, order="C", copy=True)
    inverted = train_only_inversion(train) if ulta else np.zeros(matrix.n_strategies, dtype=bool)
    if inverted.any():
        train[:, inverted] *= -1.0
        test[:, inverted] *= -1.0
    names = [f"{n}_inv" if inv else n for n, inv in zip(matrix.names, inverted, strict=True)]
    return FoldUniverse(fold, train, test, inverted, names, list(matrix.labels))
