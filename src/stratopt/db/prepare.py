"""The database stage `prepare`: date filter, ULTA and metrics in the database -> files.

prepare filters by the configured date range in SQL, computes the
per-strategy metrics and the ULTA decisions (each by the path
`database.compute` selects, "auto" = the measured faster one), and exports
prepared.parquet, strategy_metrics.csv/.parquet, inversion_report.md,
inversion.parquet and prepare.json. Loading is stratopt.db.load.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stratopt import contracts
from stratopt.data.columns import Columns
from stratopt.data.date_range import date_range
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.data.zone_matrix import write_zone_matrix
from stratopt.db import schema as S
from stratopt.db.base import Database
from stratopt.db.compute import (
    FILTERED_TABLE,
    FLAGS_TABLE,
    INVERSION_TABLE,
    METRICS_TABLE,
    RAW_METRICS_TABLE,
    ULTA_TABLE,
    choose_paths,
    flags_arrow,
    invert_columns,
    prepared_order,
    ulta_numpy,
    ulta_sql,
)
from stratopt.db.paths import FASTER
from stratopt.db.sql import sql_text
from stratopt.db.zone_prepare import (
    WEIGHTED_TABLE,
    ZONE_FILTERED,
    ZoneSummary,
    prepared_zone_rows,
    zone_filtered_matrix,
    zone_settings,
)
from stratopt.errors import ConfigError
from stratopt.runtime.atomic import write_json
from stratopt.runtime.config_checks import MIN_SESSIONS
from stratopt.runtime.memory import release_freed_memory

log = logging.getLogger(__name__)


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
        c = contracts
        return cls(
            prepared=c.PREPARED.path(folder),
            metrics_csv=c.METRICS_CSV.path(folder),
            metrics_parquet=c.METRICS.path(folder),
            inversion_md=c.INVERSION_MD.path(folder),
            inversion_parquet=c.INVERSION.path(folder),
            report=c.PREPARE.path(folder),
        )


def filtered_sessions(
    db: Database, start: np.datetime64 | None, end: np.datetime64 | None
) -> pa.Table:
    """The sessions inside the date range (the range stored as table "prepare_params")."""
    db.replace_table(S.PARAMS, S.params_table(start, end))
    sessions = db.execute(sql_text("filter_sessions"))
    if sessions.num_rows < MIN_SESSIONS:
        cover = db.execute(sql_text("data_range")).to_pylist()[0]
        raise ConfigError(
            f"date_range {start or 'open'} .. {end or 'open'} selects "
            f"{'only one session' if sessions.num_rows else 'no session'} (at least "
            f"{MIN_SESSIONS} needed) in "
            f"{db.describe()}: the data covers {cover['first_date']} .. {cover['last_date']} "
            f"({cover['n_sessions']} sessions)"
        )
    return sessions


def _filtered_matrix(
    db: Database, start: np.datetime64 | None, end: np.datetime64 | None
) -> Matrix:
    """Filter in SQL (table "pnl_filtered") and read the result back as a matrix."""
    sessions = filtered_sessions(db, start, end)
    db.replace_view(FILTERED_TABLE, sql_text("filter_pnl"))
    pnl = db.execute(f'SELECT "strategy_id", "date", "pnl" FROM "{FILTERED_TABLE}"')
    strategies = db.execute(f'SELECT "strategy_id", "name", "label" FROM "{S.STRATEGIES}"')
    return S.matrix_from_long(sessions, pnl, strategies)


def _no_inversion(db: Database) -> Columns:
    from stratopt.db.compute import inversion_arrow
    from stratopt.engine.reference import REPORT_COLUMNS

    empty = {c: np.zeros(0, dtype=np.float64) for c in REPORT_COLUMNS[1:]}
    report = Columns({"strategy": [], **empty}, REPORT_COLUMNS)
    db.replace_table(INVERSION_TABLE, inversion_arrow(report, np.zeros(0, dtype=np.int32)))
    db.execute(f'DROP TABLE IF EXISTS "{ULTA_TABLE}"')
    return report


def prepare(db: Database, config: dict[str, Any], out: PrepareOutputs) -> dict[str, Any]:
    """Filter, ULTA, metrics, export; returns (and writes) the prepare.json content.

    `config` holds the keys the stage reads (date_range, ulta,
    database.compute, zone); in the pipeline they come from the rule's params.
    In zone mode the strategies' series are the zone-weighted ones
    (stratopt.db.zone_prepare).
    """
    from stratopt.db.prepare_metrics import strategy_metrics, write_metrics
    from stratopt.engine.ulta import write_inversion_report
    from stratopt.legacy.names import legacy_names

    compute = (config.get("database") or {}).get("compute", "auto")
    paths = choose_paths(compute)
    do_ulta = bool(config.get("ulta", True))
    start, end = date_range(config)
    zone_mode, weights = zone_settings(config)
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    zone_data, zones = None, None
    if zone_mode:
        matrix, zone_data = zone_filtered_matrix(db, filtered_sessions(db, start, end), weights)
        zones = ZoneSummary(zone_data.zones, zone_data.weights)
    else:
        matrix = _filtered_matrix(db, start, end)
    release_freed_memory()  # the long table's temporaries
    seconds["filter_and_read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if do_ulta:
        run = ulta_sql if paths["ulta"] == "sql" else ulta_numpy
        flags, report = run(db, matrix)
    else:
        flags, report = np.zeros(matrix.n_strategies, dtype=bool), _no_inversion(db)
    db.replace_table(FLAGS_TABLE, flags_arrow(flags))
    order = prepared_order(flags)
    prepared = invert_columns(matrix, flags, db.describe())
    seconds["ulta"] = time.perf_counter() - t0

    where = db.describe()

    # prepared.parquet first: its Arrow copy and the writer's buffers come and go
    # before the metrics' temporaries are made (the stage's peak memory)
    t0 = time.perf_counter()
    if zone_data is None or zones is None:  # set together, in zone mode
        write_matrix(prepared, out.prepared, extra={"ulta": do_ulta})
    else:
        zone_meta = {"ulta": do_ulta, "zone_mode": True, "zone_weights": zones.weights.tolist()}
        rows = prepared_zone_rows(zone_data, order, int(flags.sum()))
        zone_data = None  # M in the load order is no longer needed: memory
        write_zone_matrix(prepared, zones.zones, rows, out.prepared, zone_meta, by_strategy=True)
        del rows
    release_freed_memory()
    exported = time.perf_counter() - t0

    t0 = time.perf_counter()
    metrics = strategy_metrics(db, matrix, prepared, order, flags, paths["metrics"])
    seconds["metrics"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    write_metrics(metrics, out.metrics_csv, out.metrics_parquet)
    inverted_ids = np.flatnonzero(flags)
    write_inversion_report(
        report,
        out.inversion_md,
        out.inversion_parquet,
        legacy_names(
            [matrix.names[i] for i in inverted_ids], [matrix.labels[i] for i in inverted_ids]
        ),
    )
    seconds["export"] = exported + (time.perf_counter() - t0)

    summary = {
        "database": where,
        "date_range": {"start": _iso(start), "end": _iso(end)},
        "first_date": str(matrix.dates[0]),
        "last_date": str(matrix.dates[-1]),
        "days": matrix.n_days,
        "strategies": matrix.n_strategies,
        "ulta": do_ulta,
        "inverted": len(report),
        "zone": (
            {"enabled": True, "zones": zones.zones, "weights": zones.weights.tolist()}
            if zones is not None
            else {"enabled": False}
        ),
        "filter": "sql",
        "compute": compute,
        "paths": {**paths, **({} if do_ulta else {"ulta": "off"})},
        "why": (
            "auto: each computation takes the path measured faster by `stratopt bench db` "
            f"on the production-shaped twin ({FASTER}); docs/database.md"
            if compute == "auto"
            else f"database.compute = {compute!r} (set in config)"
        ),
        "tables": [S.PNL, S.STRATEGIES, S.SESSIONS, FILTERED_TABLE, FLAGS_TABLE]
        + ([S.ZONES, S.ZONE_PNL, ZONE_FILTERED, WEIGHTED_TABLE] if zones is not None else [])
        + ([ULTA_TABLE] if do_ulta and paths["ulta"] == "sql" else [])
        + [INVERSION_TABLE, METRICS_TABLE, RAW_METRICS_TABLE],
        "seconds": seconds,
    }
    write_json(out.report, contracts.PREPARE.checked(summary))
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
