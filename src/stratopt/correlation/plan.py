"""Shard planning: the strict upper triangle of N x N as tiles, cut into K shards.

The tile grid depends only on N and the tile size, never on K: every pair is
computed by the same tile, with the same arithmetic, whatever K is, so the
merged results do not depend on K (bit for bit). Shards are contiguous runs
of tiles in row-major order, cut where the cumulative pair count crosses
s * total / K, so their work differs by at most one tile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """Rows [row0, row1) x columns [col0, col1) of the correlation matrix.

    A diagonal tile (row0 == col0) covers only its strict upper triangle.
    """

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def diagonal(self) -> bool:
        return self.row0 == self.col0

    @property
    def pairs(self) -> int:
        """Distinct unordered pairs i < j this tile owns."""
        rows = self.row1 - self.row0
        if self.diagonal:
            return rows * (rows - 1) // 2
        return rows * (self.col1 - self.col0)


def plan_tiles(n: int, tile: int) -> list[Tile]:
    """Every block pair (I <= J) of the upper triangle, row-major; empty pairs dropped."""
    if tile < 1:
        raise ValueError(f"tile size must be positive, got {tile}")
    bounds = [(start, min(start + tile, n)) for start in range(0, n, tile)]
    tiles = []
    for a, (r0, r1) in enumerate(bounds):
        for c0, c1 in bounds[a:]:
            t = Tile(r0, r1, c0, c1)
            if t.pairs:
                tiles.append(t)
    return tiles


def plan_shards(n: int, shards: int, tile: int) -> list[list[Tile]]:
    """K lists of tiles of similar total work; together every pair exactly once.

    With fewer tiles than shards some shards are empty: they still run and
    write an empty summary, so the pipeline's shape does not depend on N.
    """
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    return split(plan_tiles(n, tile), shards)


def split(tiles: list[Tile], parts: int) -> list[list[Tile]]:
    """`tiles` cut into `parts` contiguous runs of similar work (some may be empty)."""
    total = sum(t.pairs for t in tiles)
    plan: list[list[Tile]] = [[] for _ in range(parts)]
    done = 0
    for t in tiles:
        # the part whose share contains this tile's midpoint of work
        mid2 = 2 * done + t.pairs  # twice the midpoint, to stay in integers
        index = min(parts - 1, (mid2 * parts) // (2 * total)) if total else 0
        plan[index].append(t)
        done += t.pairs
    return plan


def total_pairs(n: int) -> int:
    return n * (n - 1) // 2
