"""The select stage: the best portfolio per size across algorithms, and the best overall.

Reads every runs/{algorithm}.json and the prepared matrix; writes
- portfolios.parquet: one row per size (winning algorithm, fitness, indices,
  names, the eight performance metrics with the dates' own periods a year);
- summary.json: the same per size plus every algorithm's fitness, the wins per
  algorithm and the best overall;
- a folder with the legacy's outputs: best_portfolio_size{n}.txt and
  optimization_summary.txt in the legacy layout (stratopt.legacy; 252 periods
  a year so the figures compare with the legacy's), equity_curve_size{n}.png
  and drawdown_size{n}.png.
Ties between algorithms go to the one listed first in the configuration.

Every winner whose (in-sample) max drawdown is under `flag_drawdown_below`
or whose win rate is 100 % is flagged. The best overall size is chosen by
stratopt.selection.choice: the out-of-sample result when validation.json is
given, else the guarded ratio; never the largest (possibly unbounded) fitness.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stratopt import contracts
from stratopt.data import arrow_columns as cols
from stratopt.data.matrix import Matrix, read_matrix, read_matrix_metadata, write_table
from stratopt.engine.portfolio_metrics import (
    LEGACY_PERIODS_PER_YEAR,
    PERFORMANCE_KEYS,
    performance_metrics,
)
from stratopt.errors import InputError
from stratopt.legacy.layout import (
    RunStamp,
    best_portfolio_text,
    summary_parameters,
    summary_text,
)
from stratopt.legacy.names import legacy_names
from stratopt.runtime.atomic import write_json, write_text
from stratopt.search.checkpoints import file_digest
from stratopt.selection.choice import choose_best_size, guarded_fitness, read_validation
from stratopt.selection.flags import DEFAULT_DRAWDOWN_BELOW, hindsight_flags
from stratopt.selection.pictures import draw_all

log = logging.getLogger(__name__)

METRIC_KEYS = PERFORMANCE_KEYS


def load_run(path: str | Path) -> dict[str, Any]:
    """runs/{algorithm}.json, checked against its contract (ContractError names the key)."""
    doc = contracts.RUN.read_json_at(path)
    if doc is None:
        raise InputError(path, "cannot read the run: no such file")
    return doc


#: Per-size keys of a run that select never reads: each size's search trace (one
#: fitness per evaluation) is most of a run file, a million floats over the default run.
UNUSED_RUN_KEYS = ("trace", "convergence")


def load_runs(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Every run, checked, without its traces: dropped file by file, so that only
    one file's traces are ever held (tens of MB less at the stage's peak)."""
    runs = []
    for path in paths:
        run = load_run(path)
        for rec in run["sizes"]:
            for key in UNUSED_RUN_KEYS:
                rec.pop(key, None)
        runs.append(run)
    return runs


def _fitness(rec: Mapping[str, Any]) -> float | None:
    """A record's fitness when it is a finite number (null or non-finite never wins)."""
    value = rec.get("fitness")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def best_per_size(runs: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """size -> the winning record (with 'algorithm' and every algorithm's fitness).

    Only a finite fitness competes; a size where no algorithm has one maps to
    {"by_algorithm": ...} alone (no 'fitness'), and select refuses it.
    """
    best: dict[int, dict[str, Any]] = {}
    for run in runs:
        name = run["algorithm"]
        for rec in run["sizes"]:
            size = int(rec["size"])
            entry = best.setdefault(size, {"by_algorithm": {}, "evaluations_by_algorithm": {}})
            fitness = _fitness(rec)
            entry["by_algorithm"][name] = fitness
            entry["evaluations_by_algorithm"][name] = int(rec["evaluations"])
            if fitness is not None and ("fitness" not in entry or fitness > entry["fitness"]):
                entry.update(
                    size=size,
                    algorithm=name,
                    fitness=fitness,
                    best=[int(i) for i in rec["best"]],
                    evaluations=int(rec["evaluations"]),
                )
    return dict(sorted(best.items()))


def portfolio_series(matrix: Matrix, indices: Sequence[int]) -> np.ndarray:
    """The equal-weight portfolio's P&L per day (float64, T)."""
    return matrix.values[:, np.asarray(indices, dtype=np.int64)].mean(axis=1)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def select(
    matrix_path: str | Path,
    run_paths: Sequence[str | Path],
    portfolios_path: str | Path,
    summary_path: str | Path,
    legacy_dir: str | Path,
    *,
    pictures: bool = True,
    validation_path: str | Path | None = None,
    flag_drawdown_below: float = DEFAULT_DRAWDOWN_BELOW,
    objective: Mapping[str, Any] | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Pick the winners and write every output; returns the summary document.

    `validation_path`: validation.json, whose recommended size becomes the best
    overall; `objective`: drawdown_floor, drawdown_threshold, balanced and
    penalty_factor of the guarded ratio that chooses without validation;
    `threads`: the pictures' threads (the same files whatever their number).
    """
    matrix = read_matrix(matrix_path)
    validation = read_validation(validation_path) if validation_path else None
    runs = load_runs(run_paths)
    if not runs:
        raise InputError(str(legacy_dir), "select needs at least one optimize run")
    check_runs(matrix_path, matrix, run_paths, runs)
    algorithms = [r["algorithm"] for r in runs]
    winners = best_per_size(runs)
    if not winners:
        raise InputError(str(run_paths[0]), "no portfolio sizes in the runs")
    unfit = [size for size, entry in winners.items() if "fitness" not in entry]
    if unfit:
        raise InputError(
            str(run_paths[0]),
            f"size(s) {', '.join(map(str, unfit))}: no algorithm found a portfolio with a finite "
            "fitness (the data overflow the metric); nothing to select",
        )
    ppy = matrix.periods_per_year()
    legacy_dir = Path(legacy_dir)
    legacy_dir.mkdir(parents=True, exist_ok=True)

    drawn: list[tuple[int, np.ndarray]] = []
    rows: list[dict[str, Any]] = []
    for size, entry in winners.items():
        names = [matrix.names[i] for i in entry["best"]]
        series = portfolio_series(matrix, entry["best"])
        legacy_metrics = performance_metrics(series, LEGACY_PERIODS_PER_YEAR)
        metrics = performance_metrics(series, ppy)
        written = legacy_names(names, [matrix.labels[i] for i in entry["best"]])
        write_text(
            legacy_dir / contracts.fill(contracts.LEGACY_BEST, size=size),
            best_portfolio_text(
                size, entry["algorithm"].upper(), entry["fitness"], legacy_metrics, written
            ),
        )
        drawn.append((size, series))
        flags = hindsight_flags(
            metrics["max_drawdown"], metrics["win_percentage"], flag_drawdown_below
        )
        rows.append(
            {**entry, "names": names, "legacy_names": written, "metrics": metrics, "flags": flags}
        )
    if pictures:
        draw_all(matrix.dates, legacy_dir, drawn, threads)
    remove_stale(legacy_dir, set(winners), pictures=pictures)

    guarded = guarded_fitness(matrix, {r["size"]: r["best"] for r in rows}, objective or {})
    for r in rows:
        r["guarded_fitness"] = guarded[r["size"]]
    best_size, rule = choose_best_size(guarded, validation)
    overall = next(r for r in rows if r["size"] == best_size)
    write_text(
        legacy_dir / contracts.LEGACY_SUMMARY,
        summary_text(
            RunStamp.now(),
            summary_parameters(runs[0]["settings"], _ulta_applied(matrix_path, matrix)),
            overall["size"],
            overall["algorithm"].upper(),
            overall["fitness"],
            overall["legacy_names"],
        ),
    )
    _write_parquet(rows, portfolios_path, overall["size"], ppy)
    wins: dict[str, int] = dict.fromkeys(algorithms, 0)
    for r in rows:
        wins[r["algorithm"]] += 1
    summary = {
        "periods_per_year": ppy,
        "metric": runs[0].get("settings", {}).get("metric"),
        "preset": runs[0].get("preset"),
        "algorithms": algorithms,
        "wins": wins,
        "best_overall": _public(overall),
        "best_overall_rule": rule,
        "flag_drawdown_below": flag_drawdown_below,
        "flagged_sizes": [r["size"] for r in rows if r["flags"]],
        "sizes": [_public(r) for r in rows],
        "legacy_outputs": str(legacy_dir),
    }
    write_json(summary_path, contracts.SUMMARY.checked(summary))
    log.info(
        "select: %d sizes (%d flagged); best overall size %d by %s, fitness %.6g, chosen by %s",
        len(rows),
        len(summary["flagged_sizes"]),
        overall["size"],
        overall["algorithm"],
        overall["fitness"],
        rule["rule"],
    )
    return summary


def check_runs(
    matrix_path: str | Path,
    matrix: Matrix,
    run_paths: Sequence[str | Path],
    runs: Sequence[Mapping[str, Any]],
) -> None:
    """Refuse runs that searched another prepared matrix: indices would name other strategies.

    Each run records its input's SHA-256 and the names of every best set; both
    must match this matrix (the same N alone is not enough).
    """
    digest = file_digest(matrix_path)
    for path, run in zip(run_paths, runs, strict=True):
        if run.get("n_strategies", matrix.n_strategies) != matrix.n_strategies:
            raise InputError(
                path,
                f"the run searched {run['n_strategies']} strategies, the matrix holds "
                f"{matrix.n_strategies}",
            )
        recorded = (run.get("input") or {}).get("sha256")
        if recorded is None:
            raise InputError(path, "the run does not record its input's checksum")
        if recorded != digest:
            raise InputError(
                path,
                f"the run searched another file (sha256 {recorded[:12]}...), not {matrix_path} "
                f"(sha256 {digest[:12]}...): rerun optimize on it",
            )
        for rec in run["sizes"]:
            best = [int(i) for i in rec.get("best", [])]
            if any(not 0 <= i < matrix.n_strategies for i in best):
                raise InputError(path, f"size {rec.get('size')}: strategy index out of range")
            names = rec.get("names")
            if names is not None and names != [matrix.names[i] for i in best]:
                raise InputError(
                    path,
                    f"size {rec.get('size')}: the recorded strategy names differ from "
                    f"{matrix_path}'s names at the same indices",
                )


#: The files select writes per size into the legacy folder, and whether each is a picture.
PER_SIZE_FILES = {
    contracts.LEGACY_BEST: False,
    contracts.LEGACY_EQUITY: True,
    contracts.LEGACY_DRAWDOWN: True,
}


def per_size_file(name: str) -> tuple[int, bool] | None:
    """(size, is a picture) when `name` is one of select's per-size files, else None."""
    for pattern, picture in PER_SIZE_FILES.items():
        match = re.fullmatch(re.escape(pattern).replace(r"\{size\}", r"(\d+)"), name)
        if match:
            return int(match[1]), picture
    return None


def remove_stale(folder: Path, sizes: set[int], *, pictures: bool = True) -> None:
    """Remove per-size files this run did not write (left by an earlier run in the folder).

    Called after the new files are written; only select's own file names are
    touched: the reports of other sizes, and every PNG when pictures are off.
    """
    for path in folder.iterdir():
        found = per_size_file(path.name)
        if found is None or not path.is_file():
            continue
        size, picture = found
        if size not in sizes or (picture and not pictures):
            path.unlink()
            log.info("removed %s, left by an earlier selection", path)


def _ulta_applied(path: str | Path, matrix: Matrix) -> bool:
    """Whether prepare inverted (its metadata says); files without it: any `_inv` name."""
    recorded = read_matrix_metadata(path).get("ulta")
    if recorded is None:
        return any(name.endswith("_inv") for name in matrix.names)
    return bool(recorded)


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "size": row["size"],
        "algorithm": row["algorithm"],
        "fitness": row["fitness"],
        "fitness_by_algorithm": row["by_algorithm"],
        "evaluations_by_algorithm": row["evaluations_by_algorithm"],
        "guarded_fitness": row["guarded_fitness"],
        "flags": row["flags"],
        "evaluations": row["evaluations"],
        "indices": row["best"],
        "names": row["names"],
        "metrics": {k: _finite(v) for k, v in row["metrics"].items()},
    }


def _write_parquet(
    rows: Sequence[Mapping[str, Any]], path: str | Path, best_size: int, ppy: float
) -> None:
    # from buffers: pa.array would import pandas (0.5 s of CPU, 40 MB) for 66 rows
    columns: dict[str, Any] = {
        "size": cols.numbers([r["size"] for r in rows], np.int32),
        "algorithm": cols.strings([r["algorithm"] for r in rows]),
        "fitness": cols.numbers([r["fitness"] for r in rows], np.float64),
        "best_overall": cols.booleans([r["size"] == best_size for r in rows]),
        "guarded_fitness": cols.numbers([r["guarded_fitness"] for r in rows], np.float64),
        # one string ("; "-joined, "" when none): a flat column every database can store
        "flags": cols.strings(["; ".join(r["flags"]) for r in rows]),
        "evaluations": cols.numbers([r["evaluations"] for r in rows], np.int64),
        "indices": cols.lists(
            [r["best"] for r in rows],
            cols.numbers([i for r in rows for i in r["best"]], np.int32),
        ),
        "names": cols.lists(
            [r["names"] for r in rows], cols.strings([n for r in rows for n in r["names"]])
        ),
    }
    for key in METRIC_KEYS:
        columns[key] = cols.numbers([r["metrics"][key] for r in rows], np.float64)
    table = pa.table(columns).replace_schema_metadata(
        {b"stratopt": json.dumps({"periods_per_year": ppy}).encode()}
    )
    contracts.PORTFOLIOS.check_schema(table.schema, path)
    write_table(table, path)  # with page checksums
