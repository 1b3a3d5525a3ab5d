"""All-pairs Pearson correlation analysis in shards, never building the N x N matrix.

plan: which tiles of the strict upper triangle each shard computes.
settings: the config keys and the fine grid every statistic is read from.
shard: one shard's tiles on NumPy or CuPy, reduced to a small summary.
exact: exact integer arithmetic for the rare values that sit on a bin edge.
shard_io: the shard_{i}.parquet layout.
merge: all shards -> correlation.json. Design and measurements: docs/correlation.md.
"""

from stratopt.correlation.plan import Tile, plan_shards, plan_tiles
from stratopt.correlation.settings import CorrelationSettings

__all__ = ["CorrelationSettings", "Tile", "plan_shards", "plan_tiles"]
