"""The side-by-side benchmark (`stratopt bench workload`): its JSON, its checks, its baselines.

The ci workload runs end to end through the command line; an external
baseline is a real (tiny) legacy script written here. No test asserts a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from stratopt.bench.sidebyside import document
from stratopt.bench.sidebyside.equivalence import parse_best_portfolio
from stratopt.bench.sidebyside.reference_evaluator import ReferenceEvaluator
from stratopt.bench.sidebyside.runner import extrapolate
from stratopt.bench.sidebyside.workloads import load_workload
from stratopt.data.ingest import ingest
from stratopt.data.matrix import read_matrix
from stratopt.engine import reference
from stratopt.engine.evaluator import Evaluator
from stratopt.engine.portfolio_metrics import PERFORMANCE_KEYS
from stratopt.errors import ConfigError
from stratopt.legacy.layout import best_portfolio_text

MEASURE_KEYS = {"runs", "wall_s", "cpu_s", "peak_rss_mb", "wall_min_s", "wall_max_s", "samples"}


def _bench(repo: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stratopt", "bench", "workload", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_side(summary: dict, runs: int) -> None:
    assert set(summary) >= MEASURE_KEYS
    assert summary["runs"] == runs == len(summary["samples"])
    for key in ("wall_s", "cpu_s", "peak_rss_mb"):
        assert summary[key] > 0
    assert summary["wall_min_s"] <= summary["wall_s"] <= summary["wall_max_s"]


# ---------------------------------------------------------------- the ci workload, end to end


@pytest.fixture(scope="module")
def ci_run(repo, real_sample_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-ci")
    proc = _bench(repo, "ci", "--input", str(real_sample_csv), "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


@pytest.mark.slow  # the bench workload: both pipelines, timed
def test_ci_bench_json_shape(ci_run):
    out, _ = ci_run
    doc = json.loads((out / "bench.json").read_text())
    assert doc["schema"] == document.SCHEMA
    assert doc["workload"] == "ci"
    assert doc["strategies"] == 500 and doc["days"] == 82
    assert doc["baseline"]["kind"] == "reference"
    assert doc["baseline"]["repeats"] >= 3 and doc["tuned"]["repeats"] >= 3
    assert list(doc["stages"]) == list(document.STAGES)
    for stage, entry in doc["stages"].items():
        _assert_side(entry["baseline"], doc["baseline"]["repeats"])
        _assert_side(entry["tuned"], doc["tuned"]["repeats"])
        for key in ("wall_s", "cpu_s", "peak_rss_mb"):
            want = entry["baseline"][key] / entry["tuned"][key]
            assert entry["ratio"][key] == pytest.approx(want), stage
    total = doc["total"]
    _assert_side(total["baseline"], doc["baseline"]["repeats"])
    per_rep = [
        sum(doc["stages"][s]["tuned"]["samples"][i]["wall_s"] for s in doc["stages"])
        for i in range(3)
    ]
    assert sorted(s["wall_s"] for s in total["tuned"]["samples"]) == pytest.approx(sorted(per_rep))
    assert doc["speedup"] == pytest.approx(total["ratio"]["wall_s"])
    assert doc["strategies_per_s"] == pytest.approx(500 / total["tuned"]["wall_s"])
    assert set(doc["targets"]) == {"strategies_per_s", "load_s", "total_s", "stage_peak_mb"}
    lean = doc["total_without_correlation"]
    assert lean["without"] == "correlation"
    assert lean["tuned"]["wall_s"] < total["tuned"]["wall_s"]
    assert lean["baseline"]["wall_s"] == pytest.approx(total["baseline"]["wall_s"])
    assert doc["extrapolated"] is False and doc["extrapolation"] is None
    assert doc["machine"]["parent_peak_rss_mb"] > 0
    # the search set-up (the dense matrix) is untimed and recorded apart
    assert all(s["setup"] is not None for s in doc["stages"]["search"]["baseline"]["samples"])


@pytest.mark.slow  # the bench workload: both pipelines, timed
def test_ci_equivalence_checks_ran_and_passed(ci_run):
    out, _ = ci_run
    doc = json.loads((out / "bench.json").read_text())
    eq = doc["equivalence"]
    assert eq["ran"] and eq["passed"] and doc["equivalence_passed"] is True
    checks = {c["name"]: c for c in eq["checks"]}
    assert set(checks) == {"strategy_metrics", "ulta_inversions", "portfolio_fitness"}
    assert checks["strategy_metrics"]["strategies_compared"] == 500
    ulta = checks["ulta_inversions"]
    assert ulta["inverted_baseline"] == ulta["inverted_tuned"] > 0
    assert ulta["prepared_values_identical"] is True
    sizes = checks["portfolio_fitness"]["sizes"]
    assert [r["size"] for r in sizes] == [10, 11]
    assert all(r["relative_difference"] <= 1e-9 for r in sizes)


@pytest.mark.slow  # the bench workload: both pipelines, timed
def test_ci_table_written_and_printed(ci_run):
    out, stdout = ci_run
    table = (out / "bench.md").read_text()
    for stage in document.STAGES:
        assert f"| {stage} |" in table
        assert stage in stdout
    assert "**total**" in table and "throughput" in table and "data load" in table
    assert "strategy_metrics: passed" in table
    assert not (out / "bench-work").exists()  # the work folder is removed unless --keep-work


# ---------------------------------------------------------------- an external legacy command

LEGACY_SCRIPT = '''
"""A tiny legacy optimizer: reads an INI, writes strategy_metrics.csv and one best portfolio."""
import configparser, csv, sys
from pathlib import Path
import numpy as np

cfg = configparser.ConfigParser()
cfg.read(sys.argv[2])
out = Path(cfg["output"]["folder"])
out.mkdir(parents=True, exist_ok=True)
with open(sys.argv[1], newline="") as fh:
    rows = list(csv.reader(fh))
header, body = rows[0], rows[1:]
names = header[2:]  # Date, Day, then strategies
x = np.array([[float(c or 0) for c in r[2:]] for r in body])
# ULTA: invert the losing strategies, move them to the end
keep = [j for j in range(len(names)) if x[:, j].sum() >= 0]
inv = [j for j in range(len(names)) if x[:, j].sum() < 0]
y = np.concatenate([x[:, keep], -x[:, inv]], axis=1)
labels = [names[j] for j in keep] + [names[j] + "_inv" for j in inv]
with open(out / "strategy_metrics.csv", "w") as fh:
    fh.write(",ROI,Max Drawdown,Win Percentage,Profit Factor,Expectancy\\n")
    for j, name in enumerate(labels):  # after ULTA, as the search sees them
        if j == 0:
            continue  # the legacy's defect: the first strategy is skipped
        r = y[:, j]
        eq = np.cumsum(r)
        dd = np.max(np.maximum.accumulate(eq) - eq)
        g, l = r[r > 0], r[r < 0]
        win = len(g) / len(r)
        pf = g.sum() / abs(l.sum()) if len(l) else float("inf")
        ex = win * (g.mean() if len(g) else 0) - (1 - win) * (np.abs(l).mean() if len(l) else 0)
        vals = [float(v) for v in (r.sum(), dd, win, pf, ex)]
        fh.write(f"sample_{name}," + ",".join(repr(v) for v in vals) + "\\n")
pick = list(range(int(cfg["search"]["size"])))
p = y[:, pick].mean(axis=1)
eq = np.cumsum(p)
dd = np.max(np.maximum.accumulate(eq) - eq)
c = np.corrcoef(y[:, pick], rowvar=False)
n = len(pick)
fitness = p.sum() / dd - 10 * (c.sum() - n) / (n * (n - 1))
with open(out / f"best_portfolio_size{n}.txt", "w", newline="\\r\\n") as fh:
    fh.write(f"Best Portfolio (Size {n}) - Method: GA\\nFitness: {fitness}\\n\\n")
    fh.write(f"Performance Metrics:\\ntotal_roi: {p.sum()}\\nmax_drawdown: {dd}\\n\\n")
    fh.write("Selected Strategies:\\n")
    fh.writelines(f"{i}. sample_{labels[j]}\\n" for i, j in enumerate(pick, start=1))
print("legacy done")
'''


def _external_workload(tmp: Path, repo: Path, command: list[str]) -> Path:
    ci = yaml.safe_load((repo / "config" / "workloads" / "ci.yaml").read_text())
    ci["config"]["optimize"].update(min_size=10, max_size=10)
    ci["config"]["correlation"]["enabled"] = False
    ci["name"] = "ci-external"
    ci["baseline"] = {
        "kind": "external",
        "command": command,
        "outputs": {"strategy_metrics": "out/strategy_metrics.csv", "portfolios_dir": "out"},
    }
    path = tmp / "ci-external.yaml"
    path.write_text(yaml.safe_dump(ci))
    return path


@pytest.mark.slow  # the bench workload: both pipelines, timed
def test_external_legacy_command_is_timed_and_checked(repo, real_sample_csv, tmp_path):
    (tmp_path / "legacy.py").write_text(LEGACY_SCRIPT)
    (tmp_path / "legacy.ini").write_text("[output]\nfolder = out\n[search]\nsize = 10\n")
    workload = _external_workload(
        tmp_path, repo, [sys.executable, "legacy.py", "{input}", "legacy.ini"]
    )
    out = tmp_path / "result"
    proc = _bench(
        repo, str(workload), "--input", str(real_sample_csv), "--out", str(out), "--repeats", "1"
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads((out / "bench.json").read_text())
    assert doc["baseline"]["kind"] == "external"
    assert "legacy.py" in doc["baseline"]["label"]
    _assert_side(doc["total"]["baseline"], 1)
    assert all(entry["baseline"] is None for entry in doc["stages"].values())
    assert "correlation" not in doc["stages"]
    checks = {c["name"]: c for c in doc["equivalence"]["checks"]}
    metrics = checks["strategy_metrics"]
    assert metrics["passed"] and metrics["strategies_compared"] == 499  # the legacy skipped one
    assert len(metrics["only_in_tuned"]) == 1
    fitness = checks["portfolio_fitness"]
    assert fitness["passed"] and [r["size"] for r in fitness["sizes"]] == [10]
    assert doc["equivalence_passed"] is True


def test_external_command_failure_is_reported(repo, real_sample_csv, tmp_path):
    (tmp_path / "broken.py").write_text(
        "import sys\nprint('cannot read the INI', file=sys.stderr)\nsys.exit(3)\n"
    )
    workload = _external_workload(tmp_path, repo, [sys.executable, "broken.py"])
    proc = _bench(
        repo,
        str(workload),
        "--input",
        str(real_sample_csv),
        "--out",
        str(tmp_path / "r"),
        "--repeats",
        "1",
    )
    assert proc.returncode != 0
    assert "failed (3)" in proc.stderr and "cannot read the INI" in proc.stderr
    assert not (tmp_path / "r" / "bench.json").exists()


# ---------------------------------------------------------------- the parts


def test_workloads_in_the_repo_load():
    prod = load_workload("legacy-production")
    assert prod.sizes == list(range(35, 101))
    assert prod.config["optimize"]["preset"] == "legacy"
    assert (
        prod.config["optimize"]["generations"] == 100
        and prod.config["optimize"]["population"] == 30
    )
    assert prod.config["metric"] == "ratio" and prod.config["ulta"] is True
    assert prod.baseline_search_sizes() == [35, 67, 100]
    one = load_workload("one-size")
    assert one.sizes == [35] and one.baseline_search_sizes() == [35]
    assert (
        set(one.algorithms)
        == set(prod.algorithms)
        == {"ga", "pso", "sa", "de", "aco", "hc", "bo", "rs"}
    )
    assert load_workload("ci").sizes == [10, 11]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nbogus: 1\n", "unknown workload keys"),
        ("baseline: {kind: magic}\n", "baseline.kind"),
        ("baseline: {kind: external}\n", "baseline.command"),
        ("baseline: {sizes: [1000]}\n", "selects none"),
        ("tuned: {repeats: 0}\n", "tuned.repeats"),
    ],
)
def test_bad_workloads_are_refused(tmp_path, text, message):
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_workload(str(path))


def test_unknown_workload_names_the_known_ones():
    with pytest.raises(ConfigError, match="one-size"):
        load_workload("no-such-workload")


def test_extrapolation_follows_a_quadratic_cost():
    w = load_workload("legacy-production")
    cost = {n: 0.5 + 0.01 * n + 0.002 * n * n for n in w.baseline_search_sizes()}
    measured = sum(cost.values())
    rep = {
        "search": {
            "wall_s": measured,
            "cpu_s": measured,
            "result": {"size_seconds": {str(k): v for k, v in cost.items()}},
        },
        "select/report": {"wall_s": 3.0, "cpu_s": 3.0},
    }
    info = extrapolate(w, [rep])
    want = sum(0.5 + 0.01 * n + 0.002 * n * n for n in range(35, 101))
    assert rep["search"]["wall_s"] == pytest.approx(want)
    assert rep["search"]["measured_wall_s"] == pytest.approx(measured)
    assert rep["search"]["extrapolated"] is True
    assert rep["select/report"]["wall_s"] == pytest.approx(3.0 * 66 / 3)
    assert info["sizes_run"] == [35, 67, 100] and info["sizes_total"] == 66
    assert extrapolate(load_workload("one-size"), [rep]) is None


def test_reference_evaluator_agrees_with_the_tuned_engine(real_sample_csv, tmp_path):
    matrix = ingest(real_sample_csv, tmp_path / "m.parquet")
    values = matrix.values
    ref = ReferenceEvaluator(values, reference.correlation_matrix(values))
    ev = Evaluator(values)
    rng = np.random.default_rng(9)
    sets = np.array([rng.choice(values.shape[1], 12, replace=False) for _ in range(5)])
    np.testing.assert_allclose(ref.evaluate(sets), ev.evaluate(sets), rtol=1e-9)
    assert ref.evaluations == 5
    sw = ref.swapper(sets[0])
    new = int(np.setdiff1d(np.arange(values.shape[1]), sets[0])[0])
    proposed = sw.propose(3, new)
    moved = sets[0].copy()
    moved[3] = new
    assert proposed == pytest.approx(ev.evaluate_one(moved), rel=1e-9)
    sw.accept(3, new)
    assert sw.fitness == proposed and sw.indices[3] == new
    with pytest.raises(ValueError, match="already"):
        sw.propose(0, int(sets[0][1]))


def test_best_portfolio_files_parse(real_sample_csv, tmp_path):
    ingest(real_sample_csv, tmp_path / "m.parquet")
    names = read_matrix(tmp_path / "m.parquet").names[:4]
    assert len(names) == 4
    metrics = dict.fromkeys(
        PERFORMANCE_KEYS,
        1.0,
    )
    text = best_portfolio_text(4, "GA", 12.3456789, metrics, names)
    path = tmp_path / "best_portfolio_size4.txt"
    path.write_text(text)
    got = parse_best_portfolio(path)
    assert got["size"] == 4 and got["names"] == names and got["algorithm"] == "GA"
    assert got["fitness"] == 12.3456789  # the legacy prints the float's repr
    assert 0 < got["printed_tolerance"] < 1e-8  # 7 printed decimals


@pytest.mark.slow  # a benchmark's measured child processes
def test_one_timing_module_measures_the_child_alone_and_its_children_when_asked():
    """stratopt.bench.timing: the peak is the child's own; run_stage adds its children's CPU."""
    from stratopt.bench.timing import StageFailed, run_isolated, run_stage

    big = run_isolated("numpy:ones", {"shape": 40_000_000})  # 320 MB of float64
    small = run_isolated("numpy:ones", {"shape": 10})
    assert big.peak_rss_mb > 300 > small.peak_rss_mb
    work = {"args": [sys.executable, "-c", "sum(range(4 * 10**7))"], "check": True}
    own = run_isolated("subprocess:run", work)  # the work is a grandchild: not this child's CPU
    tree = run_stage("subprocess:run", work)
    assert tree.cpu_s > 0.2 and own.cpu_s < tree.cpu_s / 4
    with pytest.raises(StageFailed, match="no_such_function"):
        run_isolated("os:no_such_function")
    with pytest.raises(RuntimeError):  # run_isolated's callers catch RuntimeError
        run_stage("os:no_such_function")


@pytest.mark.parametrize("budget", [None, 300])
def test_the_speed_table_runs_each_loop_at_the_budget_asked(
    tmp_path: Path, real_sample_csv: Path, budget: int | None
) -> None:
    """`bench search --speed --speed-budget N`: every search spends N evaluations (the
    pipeline's regime); without it, each algorithm its natural count (ACO, BO: G)."""
    import json

    from search_support import write_prepared
    from stratopt.bench.search import ALGORITHMS, speed_child

    prepared = write_prepared(real_sample_csv, tmp_path / "prepared.parquet")
    out = tmp_path / "speed.json"
    speed_child(str(prepared), "default", 10, 1e-9, str(out), budget=budget)
    figures = json.loads(out.read_text())
    assert set(figures) == set(ALGORITHMS)
    for name, f in figures.items():
        assert f["searches"] == 1 and f["loop_per_s"] > 0 and f["plain_per_s"] > 0, name
        if budget is not None:
            assert f["evaluations"] == budget, name
    if budget is None:
        assert figures["bo"]["evaluations"] == 100 and figures["aco"]["evaluations"] == 100
