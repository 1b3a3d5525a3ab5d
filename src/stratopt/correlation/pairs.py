"""Lists of pairs (i, j, r) and their deterministic orders, on any array module.

Ties in r are broken by the pair key i * N + j, so every ordering (and hence
the top pairs and the partners) is the same whatever the shard count.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np


@dataclass
class Pairs:
    """Parallel arrays: pairs (i[k], j[k]) with correlation r[k]."""

    i: Any
    j: Any
    r: Any

    @classmethod
    def empty(cls, xp: ModuleType = np) -> Pairs:
        return cls(xp.zeros(0, xp.int64), xp.zeros(0, xp.int64), xp.zeros(0, xp.float64))

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def concat(self, other: Pairs, xp: ModuleType = np) -> Pairs:
        return Pairs(
            xp.concatenate([self.i, other.i]),
            xp.concatenate([self.j, other.j]),
            xp.concatenate([self.r.astype(xp.float64), other.r.astype(xp.float64)]),
        )

    def take(self, idx: Any) -> Pairs:
        return Pairs(self.i[idx], self.j[idx], self.r[idx])

    def to_numpy(self) -> Pairs:
        from stratopt.engine.backend import to_numpy

        return Pairs(
            np.asarray(to_numpy(self.i), np.int64),
            np.asarray(to_numpy(self.j), np.int64),
            np.asarray(to_numpy(self.r), np.float64),
        )


def ranked(pairs: Pairs, n: int, k: int, *, descending: bool, xp: ModuleType = np) -> Pairs:
    """The first k pairs by r (descending or ascending), ties by smaller (i, j)."""
    if len(pairs) == 0:
        return pairs
    key = pairs.i * n + pairs.j
    primary = -pairs.r if descending else pairs.r
    order = xp.lexsort(xp.stack([key.astype(xp.float64), primary]))
    return pairs.take(order[:k])
