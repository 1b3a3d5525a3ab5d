"""Gathering what a run left under results/{dataset}/ into plain data for the template.

Each section is read by its own module in stratopt.report.sections, every file
through its contract (stratopt.contracts). A stage that did not run gives
None (the template then says so), never an error; a file that is present but
breaks its contract gives None as well, with the error in the notes and the
file named among the broken ones at the top of the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratopt import contracts as C
from stratopt.report.sections import Reader
from stratopt.report.sections.answer import collect_choice, collect_search, collect_validation
from stratopt.report.sections.bench import collect_bench
from stratopt.report.sections.correlation import collect_correlation
from stratopt.report.sections.portfolios import collect_best, collect_portfolios, collect_zones
from stratopt.report.sections.run import collect_run
from stratopt.report.sections.runs import collect_runs, collect_success, collect_throughput
from stratopt.report.sections.stages import StageRow, collect_stages, stage_totals
from stratopt.report.sections.ulta import collect_ulta


@dataclass
class ReportData:
    title: str
    results_dir: str
    run: dict[str, Any]
    stages: list[StageRow]
    stage_totals: dict[str, Any] | None
    bench: dict[str, Any] | None
    portfolios: dict[str, Any] | None
    best: dict[str, Any] | None
    ulta: dict[str, Any] | None
    correlation: dict[str, Any] | None
    runs: dict[str, Any] | None
    throughput: dict[str, Any]
    success: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    zones: dict[str, Any] | None = None  # zones.json (select): zone mode and contributions
    validation: dict[str, Any] | None = None  # the out-of-sample result (validate)
    choice: dict[str, Any] | None = None  # how select chose the best overall size, its flags
    search: dict[str, Any] | None = None  # fitness per algorithm and size, convergence
    broken: list[str] = field(default_factory=list)  # present outputs that break their contract


def collect(
    results_dir: str | Path, config: Mapping[str, Any] | None = None, title: str | None = None
) -> ReportData:
    """Everything the report shows, from whatever exists under `results_dir`."""
    reader = Reader(Path(results_dir))
    ingest = reader.json(C.INGEST)  # read once: the run, the ULTA share, the throughput
    summary = reader.json(C.SUMMARY)  # read once: the answer, the choice, the search
    strategies = ingest["strategies"] if ingest else None
    stages = collect_stages(reader)
    totals = stage_totals(stages)
    bench = collect_bench(reader)
    portfolios = collect_portfolios(reader)
    runs = collect_runs(reader)
    best = collect_best(reader, portfolios)
    convergence = (runs or {}).get("convergence") or {}
    cfg_title = ((config or {}).get("report") or {}).get("title")
    data = ReportData(
        title=title or cfg_title or "stratopt run report",
        results_dir=str(reader.results),
        run=collect_run(ingest, config),
        stages=stages,
        stage_totals=totals,
        bench=bench,
        portfolios=portfolios,
        best=best,
        ulta=collect_ulta(reader, config, strategies),
        correlation=collect_correlation(reader),
        runs=runs,
        throughput=collect_throughput(strategies, totals, runs, bench),
        success=collect_success(reader, config),
        zones=collect_zones(reader),
        validation=collect_validation(reader, reader.json(C.VALIDATION), summary),
        choice=collect_choice(summary),
        search=collect_search(summary, best["size"] if best else None, convergence),
    )
    data.notes, data.broken = reader.notes, reader.broken
    return data
