"""The run report: every section from real stage outputs, escaping, and a real Chromium.

The fixture runs the real stages on a small generated CSV (ingest, load_db
and prepare on DuckDB, optimize with two algorithms, select) and profiles
one of them under py-spy. Three inputs are written here in the agreed shapes
because the fixture runs stages without Snakemake or the benchmark command:
the benchmark TSVs (Snakemake's columns, filled with the stage timings
measured here, plus the `bench` rule's own), correlation.json (statistics
computed here with numpy.corrcoef) and bench.json (built with the benchmark's
own stratopt.bench.sidebyside.document functions from timings measured here).
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
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from markupsafe import escape

from stratopt.report.collect import collect, parse_best_portfolio_txt, read_benchmark_tsv
from stratopt.report.render import fmt_ratio, render_report, write_report
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


def _write_correlation_json(results: Path) -> None:
    """correlation.json in the agreed shape, from a dense numpy.corrcoef of prepared.parquet."""
    from stratopt.data.matrix import read_matrix
    from stratopt.data.names import window_of

    m = read_matrix(results / "prepared.parquet")
    r = np.corrcoef(m.values.T)
    iu = np.triu_indices(m.n_strategies, 1)
    pairs = r[iu]
    edges = np.linspace(-1, 1, 41)
    counts, _ = np.histogram(pairs, bins=edges)
    order = np.argsort(-pairs)[:10]
    windows = sorted({window_of(n) or "?" for n in m.names})
    wid = np.array([windows.index(window_of(n) or "?") for n in m.names])
    heat = np.zeros((len(windows), len(windows)))
    for a in range(len(windows)):
        for b in range(len(windows)):
            block = r[np.ix_(wid == a, wid == b)]
            off = block[~np.eye(*block.shape, dtype=bool)] if a == b else block.ravel()
            heat[a, b] = off.mean() if off.size else 1.0
    doc = {
        "n_strategies": m.n_strategies,
        "n_pairs": int(len(pairs)),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
        "above": {str(t): int((np.abs(pairs) >= t).sum()) for t in (0.5, 0.8, 0.9)},
        "top_pairs": [
            {"a": m.names[iu[0][k]], "b": m.names[iu[1][k]], "r": float(pairs[k])} for k in order
        ],
        "near_duplicate_groups": [[m.names[0], m.names[1], EVIL + "_inv"]],
        "window_heatmap": {"windows": windows, "matrix": heat.tolist()},
    }
    (results / "correlation.json").write_text(json.dumps(doc))


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
    from stratopt.db.stages import store_results
    from stratopt.runtime.profiling import run_profiled
    from stratopt.search.optimize import OptimizeSettings, optimize
    from stratopt.selection.select import select
    from stratopt.selection.zones import write_zone_document
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
                input=plain_namedlist({k: str(v) for k, v in inputs.items()}),
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
        _write_correlation_json(res)
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
    # correlation shards were not run here (correlation.json was written directly)
    assert "Stages finished: <b>8 of 9</b>" in html
    assert re.search(r"<td>correlation_shard</td><td><span class=\"bad\">not run", html)
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
    small = render_report(collect(res, config), res / "report.html")
    assert "data:image/svg+xml" in small  # one small profile: embedded
    monkeypatch.setattr(render, "FLAMEGRAPH_EMBED_TOTAL", 1000)  # below the one SVG's size
    html = render_report(collect(res, config), res / "report.html")
    assert "data:image/svg+xml" not in html and 'alt="flamegraph of ingest"' not in html
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
    legacy = parse_best_portfolio_txt(res / "legacy" / f"best_portfolio_size{best['size']}.txt")
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
