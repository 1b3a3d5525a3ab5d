"""The session plan: which sessions each fold trains on and tests on.

Sessions are counted in the order of the (date-filtered) matrix. Every plan
is anchored at the end, so that the last test period ends on the last
session: the most recent data is always tested. Test periods never overlap
(step >= test), so the test periods stitched together are one out-of-sample
series with each session at most once.

- rolling: train on `train` sessions, test on the next `test`, move by `step`.
- expanding: the same, but training always starts at the first session.
- static: one fold: the last `test` sessions, trained on the `train` before them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratopt.errors import ConfigError
from stratopt.validation.settings import ValidationSettings


@dataclass(frozen=True)
class Fold:
    """Session index ranges [start, end) of one fold."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int

    @property
    def train(self) -> slice:
        return slice(self.train_start, self.train_end)

    @property
    def test(self) -> slice:
        return slice(self.test_start, self.test_end)

    @property
    def n_train(self) -> int:
        return self.train_end - self.train_start

    @property
    def n_test(self) -> int:
        return self.test_end - self.test_start


def plan_folds(n_sessions: int, settings: ValidationSettings) -> list[Fold]:
    """The folds for `n_sessions` sessions; a ConfigError when not even one fits."""
    train, test = settings.train, settings.test
    if train + test > n_sessions:
        raise ConfigError(
            f"validation needs train + test = {train} + {test} sessions, the data has "
            f"{n_sessions} (after date_range): shorten validation.train or validation.test"
        )
    if settings.scheme == "static":
        return [
            Fold(0, n_sessions - test - train, n_sessions - test, n_sessions - test, n_sessions)
        ]
    step = settings.effective_step
    count = (n_sessions - train - test) // step + 1
    offset = n_sessions - (train + test + (count - 1) * step)  # anchor the last fold at the end
    folds = []
    for k in range(count):
        train_end = offset + train + k * step
        start = 0 if settings.scheme == "expanding" else train_end - train
        folds.append(Fold(k, start, train_end, train_end, train_end + test))
    return folds
