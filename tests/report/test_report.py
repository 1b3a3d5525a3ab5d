"""The run report: every section from real stage outputs, escaping, and a real Chromium.

The fixture runs the real stages on a small generated CSV (ingest, load_db
and prepare on DuckDB, both correlation stages, optimize with two
algorithms, validate, select, store_results) and profiles one of them under
py-spy. Two inputs are written here, in their contracts' shapes
(stratopt.contracts), because the fixture runs stages without Snakemake or
the benchmark command: the benchmark TSVs (Snakemake's columns, filled with
the stage timings measured here, plus the `bench` rule's own) and bench.json
(built with the benchmark's own stratopt.bench.sidebyside.document
functions from timings measured here).
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from markupsafe import escape

from stratopt.legacy.layout import as_record, read_text
from stratopt.report.answer import answer_lines, format_answer
from stratopt.report.collect import collect
from stratopt.report.render import (
    fmt_int,
    fmt_metric,
    fmt_money,
    fmt_ratio,
    fmt_score,
    render_report,
    write_report,
)
from stratopt.report.sections.stages import read_benchmark_tsv
from stratopt.runtime import rule_params
from stratopt.runtime.context import NamedList, RuleContext, plain_namedlist

EVIL = "<script>alert(1)</script>"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


# --- the fixture: a small real run ------------------------------------------------


def _write_csv(path: Path) -> None:
    """5 windows x 8 exit rules plus one strategy named like an attack; 30 weekly rows."""
    rng = np.random.default_rng(20250726)
    dates = np.arange(np.datetime64("2024-01-04"), np.datetime64("2024-01-04") + 7 * 30, 7)
    names = [
        f"SENSEX {w} SL{sl}%"
        for w in ("0915-1000", "1000-1100", "1100-1200", "1200-1300", "1300-1530")
        for sl in (7, 10, 15, 20, 25, 30, 40, 50)
    ]
    base = rng.normal(0, 400, size=(30, 5))
    cols = [
        base[:, i // 8] * (1 + 0.05 * (i % 8)) + rng.normal(20 - i, 60, size=30) for i in range(40)
    ]
    cols.append(rng.normal(-300, 50, size=30))  # loses every week: ULTA inverts it first
    names.append(EVIL)
    values = np.column_stack(cols).round(2)
    lines = ["Date,Day," + ",".join(f'"{n}"' for n in names)]
    for d, row in zip(dates, values, strict=True):
        day = np.datetime_as_string(d)
        lines.append(f"{day},Thursday," + ",".join(f"{v:.2f}" for v in row))
    path.write_text("\n".join(lines) + "\n")


def _config(dataset: str, source: Path) -> dict[str, Any]:
    from snakemake.utils import validate

    config: dict[str, Any] = {
        "dataset": dataset,
        "input": {"source": str(source)},
        "optimize": {
            "algorithms": ["rs", "ga"],
            "min_size": 3,
            "max_size": 5,
            "generations": 10,
            "population": 10,
        },
        # 30 weekly rows: three folds of 12 training and 6 test sessions
        "validation": {"train": 12, "test": 6, "sizes": [3, 5], "random_portfolios": 200},
        "report": {"title": f"run {EVIL} & co"},
        "correlation": {"shards": 2},
    }
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config


def _timed(fn: Callable[[], Any]) -> dict[str, float]:
    """Wall, CPU and this process's peak RSS around one real stage call."""
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    fn()
    return {
        "s": time.perf_counter() - wall0,
        "cpu_time": time.process_time() - cpu0,
        "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _write_benchmark_tsv(path: Path, m: dict[str, float]) -> None:
    """Snakemake's benchmark layout, with the numbers measured by _timed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    s = m["s"]
    hms = f"{int(s // 3600)}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}"
    path.write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
        f"{s:.4f}\t{hms}\t{m['max_rss']:.2f}\tNA\tNA\tNA\t0.00\t0.10\t{100 * m['cpu_time'] / max(s, 1e-9):.2f}\t{m['cpu_time']:.2f}\n"
    )


def _write_bench_json(results: Path, csv: Path, measured: dict[str, dict[str, float]]) -> None:
    """bench.json built by the benchmark's own document functions (stratopt-bench/1).

    Baseline: the reference (legacy-semantics) load and metrics + ULTA, timed
    here on the same CSV; current: the ingest and load_db + prepare timings
    measured by the fixture. One repetition each.
    """
    import pandas as pd

    from stratopt.bench.sidebyside import document
    from stratopt.data.matrix import read_matrix
    from stratopt.engine import reference

    def sample(m: dict[str, float]) -> dict[str, Any]:
        return {"wall_s": m["s"], "cpu_s": m["cpu_time"], "peak_rss_mb": m["max_rss"]}

    matrix = read_matrix(results / "matrix.parquet")
    baseline = {
        "load": sample(_timed(lambda: pd.read_csv(csv).fillna(0.0))),
        "metrics+ULTA": sample(
            _timed(lambda: (reference.strategy_metrics(matrix), reference.apply_ulta(matrix)))
        ),
    }
    both = {"s", "cpu_time"}
    tuned = {
        "load": sample(measured["ingest"]),
        "metrics+ULTA": sample(
            {
                **{k: measured["load_db"][k] + measured["prepare"][k] for k in both},
                "max_rss": max(measured["load_db"]["max_rss"], measured["prepare"]["max_rss"]),
            }
        ),
    }
    stages, total = document.stage_table([baseline], [tuned])
    targets = {"strategies_per_s": 400.0, "load_s": 5.0, "total_s": 60.0, "stage_peak_mb": 500.0}
    doc = {
        "schema": document.SCHEMA,
        "workload": "tiny",
        "description": f"the fixture's CSV {EVIL}",
        "input": {"path": str(csv), "bytes": csv.stat().st_size},
        "strategies": matrix.n_strategies,
        "days": matrix.n_days,
        "baseline": {"kind": "reference", "label": "reference stages", "repeats": 1},
        "tuned": {"label": "stratopt stages", "repeats": 1},
        "stages": stages,
        "total": total,
        "speedup": total["ratio"]["wall_s"],
        "cpu_speedup": total["ratio"]["cpu_s"],
        "equivalence_passed": None,
        "extrapolated": False,
        "targets": document.target_checks(targets, matrix.n_strategies, stages, total),
        "notes": ["one repetition each: figures of a tiny input"],
    }
    (results / "bench.json").write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.load import store_results
    from stratopt.runtime.profiling import run_profiled
    from stratopt.search.optimize import optimize
    from stratopt.search.settings import OptimizeSettings
    from stratopt.selection.select import select
    from stratopt.selection.zones import write_zone_document
    from stratopt.stages.correlation_shard import run as shard_stage
    from stratopt.stages.correlation_summary import run as summary_stage
    from stratopt.stages.ingest import run as ingest_rule
    from stratopt.stages.load_db import run as load_db_stage
    from stratopt.stages.prepare import run as prepare_stage
    from stratopt.stages.validate import run as validate_rule

    root = tmp_path_factory.mktemp("run")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        csv = root / "tiny.csv"
        _write_csv(csv)
        config = _config("tiny", csv)
        res = root / "results" / "tiny"
        measured: dict[str, dict[str, float]] = {}

        def ctx(rule: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> RuleContext:
            return RuleContext(
                rule=rule,
                input=plain_namedlist(
                    {
                        k: [str(x) for x in v] if isinstance(v, list) else str(v)
                        for k, v in inputs.items()
                    }
                ),
                output=plain_namedlist({k: str(v) for k, v in outputs.items()}),
                params=plain_namedlist(rule_params.for_rule(rule, config)),
                log=NamedList([str(res / "logs" / f"{rule}.log")]),
                config=config,
            )

        (res / "logs").mkdir(parents=True)
        ingest_ctx = ctx(
            "ingest",
            {"csv": csv},
            {"matrix": res / "matrix.parquet", "report": res / "ingest.json"},
        )
        measured["ingest"] = _timed(lambda: ingest_rule(ingest_ctx))
        # the same stage once more under py-spy: a real flamegraph and speedscope profile
        run_profiled(ingest_ctx, ingest_rule, out_dir=res / "profiles", rate=250)
        measured["load_db"] = _timed(
            lambda: load_db_stage(
                ctx(
                    "load_db",
                    {"matrix": res / "matrix.parquet"},
                    {"db": res / "db" / "load.duckdb", "report": res / "load.json"},
                )
            )
        )
        prep_out = {
            "db": res / "db" / "prepare.duckdb",
            "prepared": res / "prepared.parquet",
            "metrics_csv": res / "strategy_metrics.csv",
            "metrics_parquet": res / "strategy_metrics.parquet",
            "inversion_md": res / "inversion_report.md",
            "inversion_parquet": res / "inversion.parquet",
            "report": res / "prepare.json",
        }
        prep_in = {"db": res / "db" / "load.duckdb"}
        measured["prepare"] = _timed(lambda: prepare_stage(ctx("prepare", prep_in, prep_out)))
        shards = [res / "correlation" / f"shard_{i}.parquet" for i in (0, 1)]
        for i, shard in enumerate(shards):
            shard_ctx = ctx("correlation_shard", {"m": res / "prepared.parquet"}, {"s": shard})
            shard_ctx.wildcards = plain_namedlist({"shard": str(i)})
            measured[f"correlation_shard_{i}"] = _timed(lambda c=shard_ctx: shard_stage(c))
        summary_ctx = ctx(
            "correlation_summary",
            {"shards": shards, "matrix": res / "prepared.parquet"},
            {"out": res / "correlation.json"},
        )
        measured["correlation_summary"] = _timed(lambda: summary_stage(summary_ctx))
        settings = OptimizeSettings.from_config(config)
        runs: dict[str, Path] = {}
        measured["optimize"] = _timed(
            lambda: runs.update(
                optimize(res / "prepared.parquet", ["rs", "ga"], settings, res / "runs")
            )
        )
        validate_out = {"json": res / "validation.json", "oos": res / "validation_oos.parquet"}
        measured["validate"] = _timed(
            lambda: validate_rule(ctx("validate", {"matrix": res / "matrix.parquet"}, validate_out))
        )
        measured["select"] = _timed(
            lambda: select(
                res / "prepared.parquet",
                [runs["rs"], runs["ga"]],
                res / "portfolios.parquet",
                res / "summary.json",
                res / "legacy",
                pictures=False,
                validation_path=res / "validation.json",
            )
        )
        write_zone_document(
            res / "prepared.parquet", res / "portfolios.parquet", res / "zones.json"
        )
        with DuckDBDatabase(res / "stratopt.duckdb") as db:
            measured["store_results"] = _timed(
                lambda: store_results(res / "portfolios.parquet", db, res / "stored.json")
            )
        for name, m in measured.items():
            _write_benchmark_tsv(res / "benchmarks" / f"{name}.tsv", m)
        # the `bench` rule's own benchmark file: not a pipeline stage, never in the totals
        bench = _timed(lambda: _write_bench_json(res, csv, measured))
        _write_benchmark_tsv(res / "benchmarks" / "bench.tsv", bench)
        yield res, config
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def report_html(run_dir: tuple[Path, dict[str, Any]]) -> Path:
    res, config = run_dir
    return write_report(res, res / "report.html", config)


# --- what the report says ---------------------------------------------------------


@pytest.mark.slow  # the whole pipeline in-process
def test_every_section_renders_with_its_data(
    report_html: Path, run_dir: tuple[Path, dict[str, Any]]
) -> None:
    res, _ = run_dir
    html = report_html.read_text()
    ingest = json.loads((res / "ingest.json").read_text())
    assert ingest["sources"][0]["sha256"] in html  # input checksum
    assert "optimize.seed" in html and "dataset: tiny" in html  # seed and config
    assert "numpy" in html and "CPU" in html and "GiB" in html  # versions, machine
    for stage in ("ingest", "load_db", "prepare", "optimize", "validate", "select"):
        assert f"<td>{stage}</td>" in html
    assert "hottest frames" in html and 'alt="flamegraph of ingest"' in html
    bench = json.loads((res / "bench.json").read_text())
    assert "speedup" in html and fmt_ratio(bench["speedup"]) in html  # the whole run's
    for stage in bench["stages"]:
        assert f"<td>{stage}</td>" in html
    assert "Targets" in html and "strategies_per_s" in html
    assert "Best portfolio per size" in html and "portfolios.parquet" in html
    assert 'alt="equity curve and drawdown of the best portfolio"' in html
    assert "strategies inverted" in html
    assert 'alt="histogram of pairwise correlation"' in html and 'alt="window heatmap"' in html
    assert "Near-duplicate groups" in html
    assert "Plain mode: one P&amp;L per session" in html  # zones.json says zone mode is off
    # the answer comes first: the out-of-sample verdict, its charts, hindsight labels after
    validation = json.loads((res / "validation.json").read_text())
    assert html.index('id="answer"') < html.index('id="run"') < html.index('id="best"')
    assert "Verdict:</b> " + str(escape(validation["verdict"])) in html
    for alt in (
        "out-of-sample equity curve with fold boundaries",
        "random-portfolio distribution with the pick marked",
        "convergence curves per algorithm",
    ):
        assert f'alt="{alt}"' in html
    assert f"Recommended size <b>{validation['recommended_size']}</b>" in html
    assert html.count("hindsight") >= 5 and "How the best overall size was chosen" in html
    assert "Every algorithm spent the same <b>100</b> evaluations per size" in html
    assert "Stages finished: <b>9 of 9</b>" in html and "not run" not in html
    assert "was not run" not in html and "were not run" not in html
    assert "http://" not in html.replace('"http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert "https://" not in html
    # every picture is inline
    srcs = re.findall(r'<img src="([^"]*)"', html)
    assert len(srcs) >= 8 and all(s.startswith("data:image/") for s in srcs)


@pytest.mark.slow  # the whole pipeline in-process
def test_the_bench_rule_is_listed_but_not_counted(run_dir: tuple[Path, dict[str, Any]]) -> None:
    res, config = run_dir
    data = collect(res, config)
    bench = next(r for r in data.stages if r.key == "bench")
    assert bench.wall_s is not None and not bench.in_pipeline
    counted = [r for r in data.stages if r.wall_s is not None and r.in_pipeline]
    assert {r.stage for r in counted} == {
        "ingest",
        "load_db",
        "prepare",
        "correlation_shard",
        "correlation_summary",
        "optimize",
        "validate",
        "select",
        "store_results",
    }
    totals = data.stage_totals
    assert totals["excluded"] == ["bench"]
    assert totals["wall_s"] == pytest.approx(sum(r.wall_s for r in counted))
    assert "bench" not in [s["stage"] for s in totals["stages"]]
    assert data.throughput["pipeline_wall_s"] == pytest.approx(totals["wall_s"])
    html = render_report(data, res / "r.html")
    assert "(not a pipeline stage: not in the totals)" in html
    assert "not pipeline stages): bench." in html


@pytest.mark.slow  # the whole pipeline in-process
def test_large_flamegraphs_are_linked_not_embedded(
    run_dir: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratopt.report import render

    res, config = run_dir
    embedded = re.compile(
        r'<div class="flame"><img src="data:image/svg\+xml;base64,[^"]+" alt="flamegraph of ingest">'
    )
    small = render_report(collect(res, config), res / "report.html")
    assert embedded.search(small)  # one small profile: embedded
    monkeypatch.setattr(render, "FLAMEGRAPH_EMBED_TOTAL", 1000)  # below the one SVG's size
    html = render_report(collect(res, config), res / "report.html")
    assert not embedded.search(html) and 'alt="flamegraph of ingest"' not in html
    assert 'href="profiles/ingest.svg"' in html and 'href="profiles/ingest.speedscope.json"' in html
    assert (res / "profiles" / "ingest.svg").exists()  # the link resolves beside the report
    assert "hottest frames" in html and "are linked, not embedded" in html
    assert len(html) < len(small)


@pytest.mark.slow  # the whole pipeline in-process
def test_portfolio_table_matches_select_outputs(run_dir: tuple[Path, dict[str, Any]]) -> None:
    import pandas as pd

    res, config = run_dir
    data = collect(res, config)
    frame = pd.read_parquet(res / "portfolios.parquet")
    assert [r["size"] for r in data.portfolios["rows"]] == sorted(frame["size"].tolist())
    # the report shows select's choice (here the out-of-sample one), not the largest fitness
    best = frame.loc[frame["best_overall"]].iloc[0]
    validation = json.loads((res / "validation.json").read_text())
    assert best["size"] == validation["recommended_size"]
    assert data.best["size"] == best["size"] and data.best["fitness"] == pytest.approx(
        best["fitness"]
    )
    assert data.best["series"] is not None and len(data.best["series"]) == 30
    legacy = as_record(read_text(res / "legacy" / f"best_portfolio_size{best['size']}.txt"))
    assert legacy["size"] == best["size"] and legacy["fitness"] == pytest.approx(
        best["fitness"], rel=1e-6
    )
    assert legacy["strategies"] == [f"tiny_{n}" for n in best["names"]]  # the legacy's stem prefix


@pytest.mark.slow  # the whole pipeline in-process
def test_strategy_names_and_titles_are_escaped(report_html: Path) -> None:
    html = report_html.read_text()
    assert EVIL not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, in title, ULTA, groups
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3


def test_empty_results_say_each_stage_was_not_run(tmp_path: Path) -> None:
    html = render_report(collect(tmp_path), tmp_path / "r.html")
    for phrase in (
        "Ingest was not run",
        "No stage was measured",
        "The benchmark was not run",
        "The select stage was not run",
        "The prepare stage was not run",
        "The correlation stages were not run",
        "The optimize stage was not run",
        "The out-of-sample validation was not run",
        "Stages finished: <b>0 of 9</b>",
    ):
        assert phrase in html


def test_ulta_off_and_correlation_off_are_said(tmp_path: Path) -> None:
    config = {"ulta": False, "correlation": {"enabled": False}}
    data = collect(tmp_path, config)
    html = render_report(data, tmp_path / "r.html")
    assert "ULTA is switched off" in html
    assert [r["stage"] for r in data.success["rows"]] == [
        "ingest",
        "load_db",
        "prepare",
        "optimize",
        "validate",
        "select",
        "store_results",
    ]
    off = collect(tmp_path, {**config, "validation": {"enabled": False}})
    assert "validate" not in [r["stage"] for r in off.success["rows"]]


def test_benchmark_tsv_medians(tmp_path: Path) -> None:
    p = tmp_path / "b.tsv"
    p.write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
        "1.0\t0:00:01\t100\t200\t90\t95\t1\t2\t50\t0.5\n"
        "3.0\t0:00:03\t300\tNA\t90\t95\t1\t2\t50\t1.5\n"
        "2.0\t0:00:02\t200\t-\t90\t95\t1\t2\t50\t1.0\n"
    )
    b = read_benchmark_tsv(p)
    assert b["repeats"] == 3 and b["s"] == 2.0 and b["max_rss"] == 200 and b["cpu_time"] == 1.0
    assert b["max_vms"] == 200.0  # NA and - are missing, not zero


def test_speedups_keep_their_digits() -> None:
    assert fmt_ratio(16.7133) == "16.7×" and fmt_ratio(1234.5) == "1,234.5×"
    assert fmt_ratio(0.0133) == "0.013×" and fmt_ratio(0.72) == "0.72×"  # not "0.0×"
    assert fmt_ratio(None) == "—"


def test_numbers_read_for_people() -> None:
    assert fmt_int(1001) == "1,001" and fmt_int(1001.0) == "1,001" and fmt_int(None) == "—"
    assert fmt_money(32307.9159) == "₹32,308" and fmt_money(-1844.4) == "-₹1,844"
    assert fmt_money(0.5) == "₹0.50" and fmt_money(1.0) == "₹1.00" and fmt_money(0) == "₹0"
    assert fmt_score(17.393982) == "17.39" and fmt_score(0.2103359) == "0.210"
    assert fmt_score(-0.7201) == "-0.720" and fmt_score(1234.56) == "1,234.6"
    assert fmt_score(float("nan")) == "n/a" and fmt_money(float("inf")) == "∞"
    assert (
        fmt_metric(100, "evaluations") == "100" and fmt_metric(0.634, "win_percentage") == "63.4 %"
    )
    assert fmt_metric(52.4561170212766, "periods_per_year") == "52.5"
    assert fmt_metric(20667.65, "annualized_return") == "₹20,668"
    assert fmt_metric(2.9964, "profit_factor") == "3.00" and fmt_metric(7, "anything") == "7"


def test_the_report_formats_each_figure_by_what_it_is(
    report_html: Path, run_dir: tuple[Path, dict[str, Any]]
) -> None:
    import pandas as pd

    res, _ = run_dir
    html = report_html.read_text()
    ingest = json.loads((res / "ingest.json").read_text())
    ppy = ingest["periods_per_year"]
    assert f'<td>periods per year (from the dates)</td><td class="n">{ppy:.1f}</td>' in html
    assert repr(ppy) not in html
    frame = pd.read_parquet(res / "portfolios.parquet").sort_values("size")
    table = html[html.index('<section id="portfolios">') : html.index('<section id="best">')]
    for rec in frame.to_dict("records"):
        row = re.search(
            rf'<tr><td class="n">(<b>)?{rec["size"]}(</b>)?</td>(.*?)</tr>', table, re.S
        )
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(3), re.S)
        # method, fitness, then the metric columns in portfolios.parquet's order
        assert cells[1] == fmt_score(rec["fitness"])
        assert f"{rec['evaluations']:,}" in cells and f"{rec['evaluations']:.3f}" not in html
        assert fmt_money(rec["total_roi"]) in cells and fmt_money(rec["max_drawdown"]) in cells
        assert f"{100 * rec['win_percentage']:.1f} %" in cells
    assert "<th>ROI</th><th>max drawdown</th><th>win rate</th>" in html
    validation = json.loads((res / "validation.json").read_text())
    assert f'<td class="n">{fmt_money(validation["pooled"]["roi"])}</td>' in html


def test_only_the_settings_that_applied_are_shown(
    report_html: Path, run_dir: tuple[Path, dict[str, Any]]
) -> None:
    res, config = run_dir
    assert config["input"]["synth_seed"] and config["database"]["heavydb"]  # defaults filled in
    html = report_html.read_text()
    shown = yaml.safe_load(unescape(html.split("<pre>")[1].split("</pre>")[0]))
    assert shown["input"] == {"source": config["input"]["source"]}  # a real file: no twin seed
    assert "heavydb" not in shown["database"] and "bench" not in shown and "hpc" not in shown
    assert shown["zone"] == {"enabled": False} and shown["optimize"] == config["optimize"]
    assert "synth_seed" not in html and "input.synth_seed" not in html
    heavy = {**config, "database": {**config["database"], "backend": "heavydb"}}
    off = {**heavy, "validation": {**config["validation"], "enabled": False}}
    again = yaml.safe_load(collect(res, rule_params.report(off)).run["config_yaml"])
    assert again["database"]["heavydb"] == config["database"]["heavydb"]  # HeavyDB: it applies
    assert again["validation"] == {"enabled": False}
    twin = {**config, "input": {**config["input"], "source": "synthetic"}}
    assert "input.synth_seed" in collect(res, rule_params.report(twin)).run["seeds"]


def test_the_answer_names_the_pick_and_its_files(
    report_html: Path, run_dir: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    res, _ = run_dir
    summary = json.loads((res / "summary.json").read_text())
    validation = json.loads((res / "validation.json").read_text())
    best = summary["best_overall"]
    text = format_answer(res)
    assert text.splitlines()[0] == f"The answer ({res}):"
    assert (
        f"{best['size']} strategies, found by {best['algorithm'].upper()}; guarded fitness " in text
    )
    assert fmt_score(best["guarded_fitness"]) in text
    flat = " ".join(text.split())
    assert validation["verdict"] in flat  # the whole verdict, wrapped
    assert f"ROI {fmt_money(validation['pooled']['roi'])} on " in flat
    paths = dict(
        re.findall(r"^  (open first|its strategies|every size|summary)\s+(\S+)", text, re.M)
    )
    assert paths["open first"] == str(report_html)
    assert paths["its strategies"] == str(res / "legacy" / f"best_portfolio_size{best['size']}.txt")
    assert all(Path(p).exists() for p in paths.values())
    assert max(map(len, text.splitlines()[:-1])) <= 120  # the verdict is wrapped
    assert answer_lines(tmp_path)[0].startswith(f"No answer yet in {tmp_path}")


def test_cli_prints_the_answer_after_the_fact(
    report_html: Path,
    run_dir: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from stratopt.cli import main

    res, _ = run_dir
    assert main(["answer", str(res), "--data"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"What stratopt read from {res.parent.parent / 'tiny.csv'} (")
    assert "  sessions (rows)    30, 2024-01-04 .. " in out and "  strategies         41" in out
    assert out.endswith(format_answer(res) + "\n")
    assert main(["answer", str(tmp_path)]) == 1  # no summary.json yet: says so, exit 1
    assert capsys.readouterr().out.startswith(f"No answer yet in {tmp_path}")
    assert main(["answer", str(tmp_path / "nope")]) == 2


@pytest.mark.slow  # the whole pipeline in-process
def test_cli_writes_the_report(run_dir: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from stratopt.cli import main

    res, config = run_dir
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(res), str(out), "--config", str(cfg)]) == 0
    assert "dataset: tiny" in out.read_text()
    assert main(["report", str(tmp_path / "nope"), str(out)]) == 2


@pytest.mark.slow  # the whole pipeline in-process
def test_same_outputs_render_the_same_bytes(
    run_dir: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    res, config = run_dir
    a = render_report(collect(res, config), tmp_path / "a.html")
    b = render_report(collect(res, config), tmp_path / "b.html")
    assert a == b


# --- a real browser -----------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1360,900",
]


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events:
                if e["method"] == event:
                    return e
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(event)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture()
def chromium() -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run installs it)")
    pytest.importorskip("websocket", reason="websocket-client (dev extra) not installed")
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    proc = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chromium did not start (exit {proc.poll()})")
            time.sleep(0.1)  # waiting for chromium to write its port, not standing in for work
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        client = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield client
    finally:
        if client:
            client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


#: The in-sample table's header and first row, and the run's key-value tables, as shown.
SHOWN_FIGURES = """JSON.stringify((() => {
  const table = document.querySelector('#portfolios table');
  const cells = row => Array.from(row.cells).map(c => c.innerText.trim());
  const kv = Array.from(document.querySelectorAll('#run table.kv tr'))
    .filter(r => r.cells.length === 2).map(cells);
  return {heads: cells(table.rows[0]), first: cells(table.rows[1]), kv: Object.fromEntries(kv)};
})())"""


@pytest.mark.browser
def test_report_in_headless_chromium(report_html: Path, chromium: DevTools) -> None:
    cdp = chromium
    for domain in ("Page", "Runtime", "Log"):
        cdp.call(f"{domain}.enable")
    cdp.call("Page.navigate", url=report_html.resolve().as_uri())
    cdp.wait_for("Page.loadEventFired")
    images = cdp.call(
        "Runtime.evaluate",
        expression="JSON.stringify(Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]))",
        returnByValue=True,
    )["result"]["value"]
    images = json.loads(images)
    assert len(images) >= 8
    alts = [alt for alt, _, _ in images]
    assert alts[0] == "out-of-sample equity curve with fold boundaries"  # the report leads with it
    assert all(complete and width > 0 for _, complete, width in images), images
    text = cdp.call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)
    assert EVIL in text["result"]["value"]  # the name is on the page as text
    # figures for people, as the browser shows them
    shown = json.loads(
        cdp.call("Runtime.evaluate", expression=SHOWN_FIGURES, returnByValue=True)["result"][
            "value"
        ]
    )
    best = dict(zip(shown["heads"], shown["first"], strict=True))
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", best["evaluations"]), best
    for money in ("ROI", "max drawdown", "expectancy (per session)"):
        assert re.fullmatch(r"-?₹\d{1,3}(,\d{3})*(\.\d\d)?", best[money]), best
    assert re.fullmatch(r"\d+\.\d %", best["win rate"]) and re.fullmatch(
        r"\d+\.\d\d", best["fitness"]
    )
    assert re.fullmatch(r"\d+\.\d", shown["kv"]["periods per year (from the dates)"]), shown["kv"]
    assert shown["kv"]["sessions (rows)"] == "30" and shown["kv"]["strategies"] == "41"
    assert "synth_seed" not in text["result"]["value"]
    assert not re.search(r"\d\.000\b", text["result"]["value"])  # no count as 1,001.000
    scripts = cdp.call("Runtime.evaluate", expression="document.scripts.length", returnByValue=True)
    assert scripts["result"]["value"] == 0
    height = cdp.call(
        "Runtime.evaluate", expression="document.documentElement.scrollHeight", returnByValue=True
    )
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        width=1360,
        height=min(int(height["result"]["value"]), 16000),
        deviceScaleFactor=1,
        mobile=False,
    )
    shot = cdp.call("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(base64.b64decode(shot["data"]))
    problems = [
        e
        for e in cdp.events
        if e["method"] in ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
        or (
            e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
        )
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert problems == []
