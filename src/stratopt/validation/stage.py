"""The validate stage: matrix.parquet (before ULTA) -> validation.json + validation_oos.parquet.

Why matrix.parquet and not prepared.parquet: prepared.parquet is already
ULTA-inverted with decisions taken on every session, test sessions included,
so a fold could not undo the look-ahead. matrix.parquet is the ingested data
before any decision; the configured date_range is applied here with the
prepare stage's rule (inclusive bounds), which is cheaper than a second
export from the database and keeps this stage independent of it: validate
runs beside the optimize jobs.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stratopt.data.date_range import date_range
from stratopt.data.matrix import Matrix, read_matrix
from stratopt.errors import ConfigError, InputError
from stratopt.runtime.memory import release_freed_memory
from stratopt.search.settings import OptimizeSettings
from stratopt.selection.flags import DEFAULT_DRAWDOWN_BELOW
from stratopt.validation.folds import plan_folds
from stratopt.validation.output import (
    RULE,
    SCHEMA,
    fold_header,
    pool_size,
    recommend,
    write_oos_parquet,
    write_validation_json,
)
from stratopt.validation.run import SizeOutcome, run_fold
from stratopt.validation.settings import ValidationSettings, fitting_sizes
from stratopt.validation.universe import fold_universe

log = logging.getLogger(__name__)


def date_filtered(matrix: Matrix, config: Mapping[str, Any], source: str) -> Matrix:
    """The sessions inside date_range (inclusive, open where not set), as prepare keeps them."""
    start, end = date_range(config)
    dates = matrix.dates.astype("datetime64[D]")
    keep = np.ones(len(dates), dtype=bool)
    if start is not None:
        keep &= dates >= start
    if end is not None:
        keep &= dates <= end
    if not keep.any():
        raise InputError(
            source, f"date_range {start or 'open'} .. {end or 'open'} selects no session"
        )
    return matrix if keep.all() else matrix.take_days(keep)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def validate(
    matrix_path: str | Path,
    config: Mapping[str, Any],
    json_path: str | Path,
    parquet_path: str | Path,
) -> dict[str, Any]:
    """Run every fold, pool them, write both outputs; returns the validation document."""
    started = time.perf_counter()
    matrix_path = Path(matrix_path)
    vs = ValidationSettings.from_config(config)
    search = OptimizeSettings.from_config(config)
    flag_below = float(config.get("flag_drawdown_below", DEFAULT_DRAWDOWN_BELOW))
    ulta = bool(config.get("ulta", True))
    from stratopt.algorithms import check_params

    # an unknown algorithm or a bad setting (optimize.params) fails before any work
    check_params(search.params, vs.algorithms)
    matrix = date_filtered(read_matrix(matrix_path), config, str(matrix_path))
    release_freed_memory()  # the Parquet pages and Arrow buffers read: ~19 MB on the twin
    sizes, skipped = fitting_sizes(vs.sizes, matrix.n_strategies)
    if not sizes:
        raise ConfigError(
            f"validation.sizes {list(vs.sizes)}: all larger than the {matrix.n_strategies} strategies"
        )
    if skipped:
        log.warning("validation sizes %s skipped: larger than the universe", skipped)
    folds = plan_folds(matrix.n_days, vs)
    dates = matrix.dates.astype("datetime64[D]")
    log.info(
        "validate: %s scheme, %d folds over %d sessions, sizes %s, %d algorithms",
        vs.scheme,
        len(folds),
        matrix.n_days,
        sizes,
        len(vs.algorithms),
    )
    per_size: dict[int, list[SizeOutcome]] = {s: [] for s in sizes}
    headers = []
    for fold in folds:
        universe = fold_universe(matrix, fold, ulta)
        outcomes = run_fold(
            universe,
            search,
            vs.algorithms,
            sizes,
            seed=vs.seed,
            random_portfolios=vs.random_portfolios,
            flag_drawdown_below=flag_below,
        )
        header = fold_header(fold, dates, int(universe.inverted.sum()))
        header["sizes"] = [outcomes[s].record for s in sizes]
        headers.append(header)
        for s in sizes:
            per_size[s].append(outcomes[s])
        del universe
        release_freed_memory()  # a fold's evaluators and scored portfolios
    by_size = [
        pool_size(
            s,
            folds,
            per_size[s],
            drawdown_floor=search.drawdown_floor,
            bar=vs.percentile_bar,
            near_zero=vs.spearman_near_zero,
        )
        for s in sizes
    ]
    chosen = recommend(by_size)
    doc = {
        "schema": SCHEMA,
        "input": {"path": str(matrix_path), "sha256": _digest(matrix_path)},
        "settings": {
            **vs.to_dict(),
            "sizes_skipped": skipped,
            "ulta": ulta,
            "flag_drawdown_below": flag_below,
            "search": search.to_dict(),
        },
        "sessions": {
            "count": matrix.n_days,
            "first": str(dates[0]),
            "last": str(dates[-1]),
            "out_of_sample": sum(f.n_test for f in folds),
        },
        "folds": headers,
        "by_size": by_size,
        "recommended_size": chosen["size"],
        "recommendation_rule": RULE,
        "pooled": {"size": chosen["size"], **chosen["pooled"]},
        "skill": chosen["skill"],
        "verdict": chosen["verdict"],
    }
    write_oos_parquet(parquet_path, dates, folds, per_size)
    write_validation_json(json_path, doc)
    log.info(
        "validate: recommended size %d (pooled out-of-sample ROI %.2f, percentile %.1f) in %.2f s: %s",
        chosen["size"],
        chosen["pooled"]["roi"],
        chosen["pooled"]["percentile"],
        time.perf_counter() - started,
        chosen["verdict"],
    )
    return doc
