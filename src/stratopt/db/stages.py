"""The database stages: `load_db` (matrix.parquet -> tables) and `prepare` (SQL -> files).

load_db replaces the tables "pnl", "strategies" and "sessions" (never
appends: a rerun leaves exactly one copy). prepare filters by the configured
date range in SQL, computes the per-strategy metrics and the ULTA decisions
(each by the path `database.compute` selects, "auto" = the measured faster
one), and exports prepared.parquet, strategy_metrics.csv/.parquet,
inversion_report.md, inversion.parquet and prepare.json.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.atomic import atomic_path, write_json
from stratopt.db import open_database
from stratopt.db import schema as S
from stratopt.db.base import Database, check_table_name
from stratopt.db.compute import (
    FILTERED_TABLE,
    INVERSION_TABLE,
    ULTA_TABLE,
    choose_paths,
    invert_columns,
    metrics_numpy,
    metrics_sql,
    ulta_numpy,
    ulta_sql,
)
from stratopt.db.paths import FASTER
from stratopt.db.sql import sql_text
from stratopt.errors import ConfigError
from stratopt.matrix import Matrix, read_matrix, write_matrix
from stratopt.memory import release_freed_memory
from stratopt.reference import METRIC_COLUMNS

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- load_db


def load_matrix(db: Database, matrix: Matrix, source: str = "<matrix>") -> dict[str, int]:
    """Replace the long tables with `matrix`; returns the row count of each."""
    S.check_dates(matrix, source)
    tables = {
        S.SESSIONS: S.sessions_table(matrix),
        S.STRATEGIES: S.strategies_table(matrix),
        S.PNL: S.pnl_table(matrix),
    }
    for name, table in tables.items():
        db.replace_table(name, table)
    return {name: t.num_rows for name, t in tables.items()}


def load_db(matrix_path: str | Path, db: Database, report_path: str | Path) -> dict[str, Any]:
    """matrix.parquet -> the database's tables; load.json says what went where."""
    start = time.perf_counter()
    matrix = read_matrix(matrix_path)
    read_s = time.perf_counter() - start
    rows = load_matrix(db, matrix, str(matrix_path))
    report = {
        "database": db.describe(),
        "source": str(matrix_path),
        "days": matrix.n_days,
        "strategies": matrix.n_strategies,
        "tables": rows,
        "first_date": str(matrix.dates[0]) if matrix.n_days else None,
        "last_date": str(matrix.dates[-1]) if matrix.n_days else None,
        "seconds": {"read": read_s, "total": time.perf_counter() - start},
    }
    write_json(report_path, report)
    log.info("loaded %d x %d into %s", matrix.n_days, matrix.n_strategies, db.describe())
    return report


# ---------------------------------------------------------------- prepare


@dataclass(frozen=True)
class PrepareOutputs:
    prepared: Path
    metrics_csv: Path
    metrics_parquet: Path
    inversion_md: Path
    inversion_parquet: Path
    report: Path

    @classmethod
    def under(cls, folder: str | Path) -> PrepareOutputs:
        f = Path(folder)
        return cls(
            f / "prepared.parquet",
            f / "strategy_metrics.csv",
            f / "strategy_metrics.parquet",
            f / "inversion_report.md",
            f / "inversion.parquet",
            f / "prepare.json",
        )


def _date_or_none(value: Any, key: str) -> np.datetime64 | None:
    """A config date (YAML may give a date object or a string) or None for an open bound."""
    if value is None or value == "":
        return None
    try:
        return np.datetime64(dt.date.fromisoformat(str(value)), "D")
    except ValueError as exc:
        raise ConfigError(f"{key} = {value!r} is not a date (YYYY-MM-DD)") from exc


def date_range(config: dict[str, Any]) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    """config date_range.start/end as dates (None = open), start <= end checked."""
    rng = config.get("date_range") or {}
    start = _date_or_none(rng.get("start"), "date_range.start")
    end = _date_or_none(rng.get("end"), "date_range.end")
    if start is not None and end is not None and start > end:
        raise ConfigError(f"date_range.start {start} is after date_range.end {end}")
    return start, end


def _filtered_matrix(
    db: Database, start: np.datetime64 | None, end: np.datetime64 | None
) -> Matrix:
    """Filter in SQL (table "pnl_filtered") and read the result back as a matrix."""
    db.replace_table(S.PARAMS, S.params_table(start, end))
    sessions = db.execute(sql_text("filter_sessions"))
    if sessions.num_rows == 0:
        cover = db.execute(sql_text("data_range")).to_pylist()[0]
        raise ConfigError(
            f"date_range {start or 'open'} .. {end or 'open'} selects no session in "
            f"{db.describe()}: the data covers {cover['first_date']} .. {cover['last_date']} "
            f"({cover['n_sessions']} sessions)"
        )
    db.replace_view(FILTERED_TABLE, sql_text("filter_pnl"))
    pnl = db.execute(f'SELECT "strategy_id", "date", "pnl" FROM "{FILTERED_TABLE}"')
    strategies = db.execute(f'SELECT "strategy_id", "name", "label" FROM "{S.STRATEGIES}"')
    return S.matrix_from_long(sessions, pnl, strategies)


@dataclass(frozen=True)
class MatrixLabels:
    """A matrix's dates and strategy labels without its values."""

    dates: np.ndarray
    names: list[str]
    labels: list[str]
    n_days: int
    n_strategies: int

    @classmethod
    def of(cls, matrix: Matrix) -> MatrixLabels:
        return cls(matrix.dates, matrix.names, matrix.labels, matrix.n_days, matrix.n_strategies)


def legacy_metric_names(matrix: Matrix | MatrixLabels) -> list[str]:
    """The legacy metrics file prefixes each name with its source file's stem and "_"."""
    out = []
    for name, label in zip(matrix.names, matrix.labels, strict=True):
        out.append(f"{label}_{name}" if label and not name.startswith(f"{label}_") else name)
    return out


def write_metrics(
    frame: pd.DataFrame, matrix: Matrix | MatrixLabels, csv_path: Path, parquet_path: Path
) -> None:
    """strategy_metrics.csv in the legacy layout, and the same numbers as Parquet."""
    legacy = frame.copy()
    legacy.index = pd.Index(legacy_metric_names(matrix))
    with atomic_path(csv_path) as tmp:
        legacy.to_csv(tmp, float_format="%.17g")
    table = pa.table(
        {
            "strategy_id": pa.array(np.arange(matrix.n_strategies, dtype=np.int32)),
            "strategy": pa.array(matrix.names, type=pa.string()),
            "label": pa.array(matrix.labels, type=pa.string()),
            **{c: pa.array(frame[c].to_numpy(dtype=np.float64)) for c in METRIC_COLUMNS},
        }
    )
    with atomic_path(parquet_path) as tmp:
        pq.write_table(table, tmp)


def _no_inversion(db: Database) -> pd.DataFrame:
    from stratopt.db.compute import inversion_arrow
    from stratopt.reference import REPORT_COLUMNS

    report = pd.DataFrame({c: [] for c in REPORT_COLUMNS}).astype(
        {c: "float64" for c in REPORT_COLUMNS[1:]}
    )
    db.replace_table(INVERSION_TABLE, inversion_arrow(report, np.zeros(0, dtype=np.int32)))
    db.execute(f'DROP TABLE IF EXISTS "{ULTA_TABLE}"')
    return report


def prepare(
    db: Database, config: dict[str, Any], out: PrepareOutputs, *, close_early: bool = False
) -> dict[str, Any]:
    """Filter, metrics, ULTA, export; returns (and writes) the prepare.json content."""
    from stratopt.ulta import write_inversion_report

    compute = (config.get("database") or {}).get("compute", "auto")
    paths = choose_paths(compute)
    do_ulta = bool(config.get("ulta", True))
    start, end = date_range(config)
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    matrix = _filtered_matrix(db, start, end)
    release_freed_memory()  # the long table's temporaries
    seconds["filter_and_read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if paths["metrics"] == "sql":
        metrics = metrics_sql(db, matrix.names)
    else:
        metrics = metrics_numpy(db, matrix)
    seconds["metrics"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if do_ulta:
        run = ulta_sql if paths["ulta"] == "sql" else ulta_numpy
        flags, report = run(db, matrix)
        prepared = invert_columns(matrix, flags)
    else:
        report = _no_inversion(db)
        prepared = matrix
    seconds["ulta"] = time.perf_counter() - t0

    # The database's work is done: a stage closes it (its buffers go) before the files
    # are written; the filtered values are in `prepared` (inverted) or are `prepared`,
    # so keep only what the metrics file and the summary need of `matrix`.
    where = db.describe()
    if close_early:
        db.close()
    matrix = MatrixLabels.of(matrix)
    release_freed_memory()

    t0 = time.perf_counter()
    write_matrix(prepared, out.prepared)
    write_metrics(metrics, matrix, out.metrics_csv, out.metrics_parquet)
    write_inversion_report(report, out.inversion_md, out.inversion_parquet)
    seconds["export"] = time.perf_counter() - t0

    summary = {
        "database": where,
        "date_range": {"start": _iso(start), "end": _iso(end)},
        "first_date": str(matrix.dates[0]),
        "last_date": str(matrix.dates[-1]),
        "days": matrix.n_days,
        "strategies": matrix.n_strategies,
        "ulta": do_ulta,
        "inverted": len(report),
        "filter": "sql",
        "compute": compute,
        "paths": {**paths, **({} if do_ulta else {"ulta": "off"})},
        "why": (
            "auto: each computation takes the path measured faster by `stratopt bench db` "
            f"on the production-shaped twin ({FASTER}); docs/database.md"
            if compute == "auto"
            else f"database.compute = {compute!r} (set in config)"
        ),
        "tables": [S.PNL, S.STRATEGIES, S.SESSIONS, FILTERED_TABLE, "strategy_metrics"]
        + ([ULTA_TABLE] if do_ulta and paths["ulta"] == "sql" else [])
        + [INVERSION_TABLE],
        "seconds": seconds,
    }
    write_json(out.report, summary)
    log.info(
        "prepared %d days x %d strategies (%d inverted; metrics %s, ULTA %s)",
        matrix.n_days,
        matrix.n_strategies,
        len(report),
        paths["metrics"],
        summary["paths"]["ulta"],
    )
    return summary


def _iso(d: np.datetime64 | None) -> str | None:
    return None if d is None else str(d)


# ---------------------------------------------------------------- write back


def write_back(db: Database, name: str, table: pa.Table) -> None:
    """Store a later stage's result (chosen portfolios, their metrics) as a queryable table.

    The table is replaced atomically, so rerunning a stage never appends twice.
    """
    db.replace_table(check_table_name(name), table)


def portfolio_tables(portfolios: pa.Table) -> dict[str, pa.Table]:
    """The select stage's portfolios as two flat tables both engines can store.

    `portfolios`: one row per size (winning algorithm, fitness, metrics);
    `portfolio_members`: one row per (size, position, strategy). Names travel
    as data, never as SQL text, and no list columns are needed.
    """
    flat = portfolios.drop_columns(["indices", "names"])
    sizes = portfolios.column("size").to_numpy()
    names = portfolios.column("names").to_pylist()
    indices = portfolios.column("indices").to_pylist()
    counts = [len(n) for n in names]
    members = pa.table(
        {
            "size": pa.array(np.repeat(sizes, counts), type=pa.int32()),
            "position": pa.array([i + 1 for c in counts for i in range(c)], type=pa.int32()),
            "strategy_index": pa.array([i for row in indices for i in row], type=pa.int32()),
            "strategy": pa.array([n for row in names for n in row], type=pa.string()),
        }
    )
    return {"portfolios": flat, "portfolio_members": members}


def store_results(
    portfolios_path: str | Path, db: Database, report_path: str | Path
) -> dict[str, Any]:
    """Write the chosen portfolios back into the database, replacing earlier ones."""
    tables = portfolio_tables(pq.read_table(portfolios_path))
    for name, table in tables.items():
        write_back(db, name, table)
    report = {
        "backend": db.name,
        "tables": {name: table.num_rows for name, table in tables.items()},
    }
    write_json(report_path, report)
    return report


# ---------------------------------------------------------------- Snakemake


def _results_dir(smk: Any, fallback: str | Path) -> Path:
    return Path(fallback).parent


def load_db_stage(smk: Any) -> None:
    """Snakemake: input.matrix -> output.report (and the DuckDB file, for duckdb)."""
    with open_database(smk.config, _results_dir(smk, smk.output.report)) as db:
        load_db(smk.input.matrix, db, smk.output.report)


def prepare_stage(smk: Any) -> None:
    """Snakemake: the database -> output.prepared, .metrics_csv, ... .report."""
    o = smk.output
    out = PrepareOutputs(
        Path(o.prepared),
        Path(o.metrics_csv),
        Path(o.metrics_parquet),
        Path(o.inversion_md),
        Path(o.inversion_parquet),
        Path(o.report),
    )
    with open_database(smk.config, _results_dir(smk, o.report)) as db:
        prepare(db, smk.config, out, close_early=True)


def store_results_stage(smk: Any) -> None:
    """Snakemake: input.portfolios -> tables in the database; output.report."""
    with open_database(smk.config, _results_dir(smk, smk.output.report)) as db:
        store_results(smk.input.portfolios, db, smk.output.report)
