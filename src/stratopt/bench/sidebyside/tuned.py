"""The tuned pipeline's stages, called exactly as the Snakemake rules call them.

- load: stratopt.data.ingest (CSV -> matrix.parquet + ingest.json);
- metrics+ULTA: the database stages, load_db then prepare (prepared.parquet,
  strategy_metrics.csv/.parquet, the inversion report);
- correlation: every correlation shard, then the merge (correlation.json);
  the shards run one after another here (Snakemake runs them side by side);
- search: stratopt.search.optimize.optimize, all algorithms x sizes, with the
  configured worker processes;
- select/report: stratopt.selection.select.select and the HTML report.

Each runs in its own child process (stratopt.bench.timing); the files under
`work` are the same files a pipeline run leaves under results/{dataset}/.
"""

from __future__ import annotations

import multiprocessing.forkserver
from pathlib import Path
from typing import Any

from stratopt import contracts


def load(input: str, work: str) -> dict[str, Any]:
    from stratopt.data.ingest import ingest

    folder = Path(work)
    matrix = ingest(input, contracts.MATRIX.path(folder), contracts.INGEST.path(folder))
    return {"strategies": matrix.n_strategies, "days": matrix.n_days}


def metrics_ulta(work: str, config: dict[str, Any]) -> dict[str, Any]:
    from stratopt.db import open_database
    from stratopt.db.load import load_db
    from stratopt.db.prepare import PrepareOutputs, prepare

    folder = Path(work)
    with open_database(config, folder) as db:
        load_db(contracts.MATRIX.path(folder), db, contracts.LOAD.path(folder))
        summary = prepare(db, config, PrepareOutputs.under(folder))
    return {"inverted": summary["inverted"], "paths": summary["paths"]}


def correlation(work: str, config: dict[str, Any]) -> dict[str, Any]:
    from stratopt.correlation.jobs import run_merge, run_shard
    from stratopt.correlation.settings import CorrelationSettings

    folder = Path(work)
    settings = CorrelationSettings.from_config(config.get("correlation"))
    prepared = contracts.PREPARED.path(folder)
    shards = [contracts.CORRELATION_SHARD.path(folder, shard=i) for i in range(settings.shards)]
    for i, path in enumerate(shards):
        run_shard(prepared, path, i, settings)
    result = run_merge(shards, prepared, contracts.CORRELATION.path(folder))
    return {"shards": settings.shards, "pairs": result.get("pairs")}


def search(work: str, config: dict[str, Any]) -> dict[str, Any]:
    from stratopt.search.optimize import optimize
    from stratopt.search.settings import OptimizeSettings

    folder = Path(work)
    settings = OptimizeSettings.from_config(config)
    paths = optimize(
        contracts.PREPARED.path(folder),
        list(config["optimize"]["algorithms"]),
        settings,
        folder / contracts.RUN.folder,
        workers=int(config["optimize"]["workers"]),
    )
    _stop_forkserver()
    return {"runs": {k: str(v) for k, v in paths.items()}}


def _stop_forkserver() -> None:
    """Reap the worker pool's fork server, so its workers' CPU time counts for this stage.

    The workers are the fork server's children; their CPU time reaches this
    process (RUSAGE_CHILDREN) only once the fork server itself is waited for.
    """
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None:
        stop()


def select_report(work: str, config: dict[str, Any]) -> dict[str, Any]:
    from stratopt.report.render import write_report
    from stratopt.selection.select import select

    folder = Path(work)
    runs = [contracts.RUN.path(folder, algorithm=a) for a in config["optimize"]["algorithms"]]
    c = contracts
    summary = select(
        c.PREPARED.path(folder),
        runs,
        c.PORTFOLIOS.path(folder),
        c.SUMMARY.path(folder),
        c.LEGACY_DIR.path(folder),
    )
    write_report(folder, c.REPORT.path(folder), config)
    return {"sizes": len(summary["sizes"])}
