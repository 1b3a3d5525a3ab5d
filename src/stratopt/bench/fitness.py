"""`stratopt bench fitness`: reference vs tuned engine, evaluations per second, in one run.

Measured on the production-shaped matrix (the twin of stratopt.synth when the
reference data is there, else a plain window-factor matrix of the same
shape): full population evaluation (P = 30 and 1000; n = 35, 60, 100),
single-swap evaluation (one call per swap, and batches of proposals), and
per-strategy metrics + ULTA of all strategies.

Each measurement is one child process (stratopt.bench.timing.run_isolated, so its
peak RSS is its own); the child times only its work loop (not imports or
loading) and writes the figure to a JSON file. Medians over --repeats runs;
ratios are tuned / reference from the same run.

Each figure is checked, so that a fast wrong engine cannot pass: after its
timed loop a child evaluates the first PROBE portfolios (or swaps) of its
case, and the tuned engine's values must equal the reference's to 1e-9
relative; the tuned evaluator's own count must equal the evaluations its loop
made. A failed check is printed and the command exits 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from stratopt.bench.timing import Sample, run_isolated
from stratopt.runtime.atomic import write_json

log = logging.getLogger(__name__)

POPULATIONS = (30, 1000)
SIZES = (35, 60, 100)
SWAP_SIZES = (35, 100)
SWAP_BATCH = 1024
#: One BLAS thread in every child: the reference's small np.corrcoef calls otherwise
#: wake a BLAS thread pool per call (on 2 busy cores that cost it ~6x at n = 100).
CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
GOALS = {"population_n35": 200_000.0, "swap": 1_000_000.0, "metrics_ulta_s": 0.2}
#: Portfolios each child evaluates after its timed loop, the same in both engines.
PROBE = 16
#: Tuned and reference fitness agree to 1e-9 relative (docs/engine.md).
AGREEMENT = 1e-9


# ------------------------------------------------------------------ data


def window_factor_matrix(n_strategies: int, n_days: int = 82, seed: int = 0) -> np.ndarray:
    """A production-shaped stand-in: 124 windows, strategies of a window share a factor."""
    rng = np.random.default_rng(seed)
    windows = 124
    window_of = np.arange(n_strategies) % windows
    factor = rng.standard_t(4, size=(n_days, windows)) * 900.0
    loading = rng.uniform(0.3, 1.0, size=n_strategies)
    noise = rng.standard_t(4, size=(n_days, n_strategies)) * 500.0
    drift = rng.normal(-20.0, 120.0, size=n_strategies)
    return np.ascontiguousarray(factor[:, window_of] * loading + noise + drift)


def production_matrix(n_strategies: int, seed: int, source: str) -> tuple[np.ndarray, str]:
    """(T, N) values and a description of where they came from."""
    if source in ("auto", "twin"):
        try:
            from stratopt.synth import generate_twin, load_reference

            repo = Path(__file__).resolve().parents[3]  # src/stratopt/bench/ -> repo
            shared = Path(os.environ.get("STRATOPT_SHARED_DATA", repo.parent / "shared" / "data"))
            twin = generate_twin(load_reference(shared), seed, n_strategies)
            return twin.values, f"twin (seed {seed}, {shared})"
        except Exception as exc:
            if source == "twin":
                raise
            log.warning("twin unavailable (%s); using the window-factor matrix", exc)
    return window_factor_matrix(n_strategies, seed=seed), f"window-factor matrix (seed {seed})"


# ------------------------------------------------------------------ children


def matrix_child(out: str, n_strategies: int, seed: int, source: str) -> None:
    """Write the benchmark matrix (.npy) and its origin (.json) - in a child, so that the
    driver stays small: a child's peak RSS starts from its parent's at fork."""
    values, origin = production_matrix(n_strategies, seed, source)
    np.save(out, values)
    write_json(out + ".json", {"origin": origin})


def _load(matrix: str) -> np.ndarray:
    return np.load(matrix)


def _timed_loop(step, seconds: float, min_calls: int = 1) -> tuple[int, float, int]:
    """Call step() (returns how many evaluations it did) until `seconds` pass.

    Returns (evaluations timed, seconds, evaluations of the untimed warm-up call)."""
    warm = step()  # warm-up: first-call costs (allocation, caches) are not throughput
    done = 0
    calls = 0
    start = time.perf_counter()
    while calls < min_calls or time.perf_counter() - start < seconds:
        done += step()
        calls += 1
    return done, time.perf_counter() - start, warm


def _figure(done: int, elapsed: float, warm: int, probe: list[float], counter: Any) -> dict:
    """A child's figure: the rate, and what makes it checkable: the fitness of the first
    PROBE portfolios (both engines evaluate the same ones: they must agree) and, for the
    tuned engine, the evaluations its own counter saw against those the loop made."""
    figure: dict[str, Any] = {
        "rate": done / elapsed,
        "evaluations": done,
        "seconds": elapsed,
        "probe": probe,
    }
    if counter is not None:
        figure["counted"] = int(counter.evaluations)
        figure["made"] = warm + done + len(probe)
    return figure


def population_child(
    matrix: str, out: str, engine: str, p: int, n: int, metric: str, seconds: float, seed: int
) -> None:
    values = _load(matrix)
    rng = np.random.default_rng(seed)
    n_strat = values.shape[1]
    sets = np.array([rng.choice(n_strat, n, replace=False) for _ in range(p)])
    probe_sets = sets[:PROBE]
    counter = None
    if engine == "tuned":
        from stratopt.engine.evaluator import Evaluator

        ev = counter = Evaluator(values, metric=metric)

        def step() -> int:
            ev.evaluate(sets)
            return p

        def probe() -> list[float]:
            return ev.evaluate(probe_sets).tolist()
    else:
        from stratopt.engine import reference

        cursor = [0]

        def step() -> int:  # one portfolio at a time, as the legacy does
            reference.fitness(values, sets[cursor[0] % p], metric=metric)
            cursor[0] += 1
            return 1

        def probe() -> list[float]:
            return [reference.fitness(values, s, metric=metric) for s in probe_sets]

    done, elapsed, warm = _timed_loop(step, seconds)
    write_json(out, _figure(done, elapsed, warm, probe(), counter))


def swap_child(
    matrix: str, out: str, engine: str, n: int, metric: str, seconds: float, seed: int, mode: str
) -> None:
    values = _load(matrix)
    rng = np.random.default_rng(seed)
    n_strat = values.shape[1]
    start = rng.choice(n_strat, n, replace=False)
    outside = np.setdiff1d(np.arange(n_strat), start)
    k = 4096
    pos = rng.integers(n, size=k)
    new = rng.choice(outside, k)  # independent proposals: repeats are fine
    counter = None
    if engine == "tuned":
        from stratopt.engine.evaluator import Evaluator

        ev = counter = Evaluator(values, metric=metric)
        sw = ev.swapper(start)
        if mode == "batch":

            def step() -> int:
                for lo in range(0, k, SWAP_BATCH):
                    sw.propose_many(pos[lo : lo + SWAP_BATCH], new[lo : lo + SWAP_BATCH])
                return k
        else:

            def step() -> int:
                propose = sw.propose
                for a, b in zip(pos.tolist(), new.tolist(), strict=True):
                    propose(a, b)
                return k

        def probe() -> list[float]:
            if mode == "batch":
                return sw.propose_many(pos[:PROBE], new[:PROBE]).tolist()
            pairs = zip(pos[:PROBE].tolist(), new[:PROBE].tolist(), strict=True)
            return [sw.propose(a, b) for a, b in pairs]
    else:
        from stratopt.engine import reference

        def swapped(i: int) -> np.ndarray:
            trial = start.copy()
            trial[pos[i]] = new[i]
            return trial

        cursor = [0]

        def step() -> int:  # the legacy re-evaluates the whole swapped set
            reference.fitness(values, swapped(cursor[0] % k), metric=metric)
            cursor[0] += 1
            return 1

        def probe() -> list[float]:
            return [reference.fitness(values, swapped(i), metric=metric) for i in range(PROBE)]

    done, elapsed, warm = _timed_loop(step, seconds)
    write_json(out, _figure(done, elapsed, warm, probe(), counter))


def metrics_child(matrix: str, out: str, engine: str) -> None:
    from stratopt.data.matrix import Matrix

    values = _load(matrix)
    t, n = values.shape
    m = Matrix(
        dates=np.arange(t).astype("datetime64[D]"),
        days=[""] * t,
        names=[f"S{i}" for i in range(n)],
        values=values,
    )
    if engine == "tuned":
        from stratopt.engine import strategy_metrics as metrics
        from stratopt.engine import ulta

        def work() -> None:
            metrics.metrics_frame(m)
            ulta.apply_ulta(m)
    else:
        from stratopt.engine import reference

        def work() -> None:
            reference.strategy_metrics(m)
            reference.apply_ulta(m)

    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    write_json(out, {"seconds": elapsed})


# ------------------------------------------------------------------ driver


def _cases(args: argparse.Namespace) -> list[tuple[str, str, str, dict]]:
    """(case, engine, child target, kwargs) for every measurement."""
    mod = __name__
    cases = []
    common = {"metric": args.metric, "seed": args.seed}
    for p in POPULATIONS:
        for n in SIZES:
            for engine in ("reference", "tuned"):
                sec = args.seconds
                cases.append(
                    (
                        f"population P={p} n={n}",
                        engine,
                        f"{mod}:population_child",
                        {**common, "engine": engine, "p": p, "n": n, "seconds": sec},
                    )
                )
    for n in SWAP_SIZES:
        cases.append(
            (
                f"swap n={n}",
                "reference",
                f"{mod}:swap_child",
                {
                    **common,
                    "engine": "reference",
                    "n": n,
                    "seconds": args.seconds,
                    "mode": "single",
                },
            )
        )
        for mode in ("single", "batch"):
            cases.append(
                (
                    f"swap n={n}",
                    f"tuned-{mode}",
                    f"{mod}:swap_child",
                    {**common, "engine": "tuned", "n": n, "seconds": args.seconds, "mode": mode},
                )
            )
    for engine in ("reference", "tuned"):
        cases.append(
            ("metrics+ULTA all strategies", engine, f"{mod}:metrics_child", {"engine": engine})
        )
    return cases


def run(args: argparse.Namespace) -> int:
    cases = _cases(args)
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="stratopt-bench-") as tmp:
        matrix = str(Path(tmp) / "values.npy")
        run_isolated(
            f"{__name__}:matrix_child",
            {
                "out": matrix,
                "n_strategies": args.strategies,
                "seed": args.seed,
                "source": args.source,
            },
        )
        shape = np.load(matrix, mmap_mode="r").shape
        origin = json.loads(Path(matrix + ".json").read_text())["origin"]
        for rep in range(args.repeats):
            for i, (case, engine, target, kwargs) in enumerate(cases):
                out = str(Path(tmp) / f"r{rep}_{i}.json")
                sample = run_isolated(
                    target, {**kwargs, "matrix": matrix, "out": out}, env=CHILD_ENV
                )
                figure = json.loads(Path(out).read_text())
                slot = results.setdefault((case, engine), {"figures": [], "samples": []})
                slot["figures"].append(figure)
                slot["samples"].append(sample)
    rows = _summarise(results)
    print(f"stratopt bench fitness: {shape[0]} days x {shape[1]} strategies, {origin}")
    print(
        f"metric {args.metric!r}, {args.repeats} run(s) per figure, medians; {os.cpu_count()} CPUs"
    )
    print(format_rows(rows))
    problems = checks(rows)
    agreement = max((r.get("probe_max_rel_diff", 0.0) for r in rows), default=0.0)
    print(
        f"checked: both engines' fitness of the first {PROBE} portfolios of every case agree "
        f"(largest relative difference {agreement:.2g}, bound {AGREEMENT:g}); the tuned "
        "evaluator's count equals the evaluations made"
        if not problems
        else "FAILED checks:\n  " + "\n  ".join(problems)
    )
    if args.json:
        write_json(
            args.json,
            {
                "shape": list(shape),
                "source": origin,
                "metric": args.metric,
                "repeats": args.repeats,
                "goals": GOALS,
                "rows": rows,
                "problems": problems,
            },
        )
    return 1 if problems else 0


def _summarise(results: dict) -> list[dict]:
    rows = []
    ref_rate: dict[str, float] = {}
    ref_probe: dict[str, list[float]] = {}
    for (case, engine), slot in results.items():
        figs = slot["figures"]
        samples: list[Sample] = slot["samples"]
        row = {
            "case": case,
            "engine": engine,
            "runs": len(figs),
            "peak_rss_mb": statistics.median(s.peak_rss_mb for s in samples),
        }
        if "rate" in figs[0]:
            row["per_second"] = statistics.median(f["rate"] for f in figs)
            row["probe"] = figs[0]["probe"]
        else:
            row["seconds"] = statistics.median(f["seconds"] for f in figs)
        if "counted" in figs[0]:
            # the engine's own count of every run against the evaluations its loop made
            row["counts_agree"] = all(f["counted"] == f["made"] for f in figs)
        if engine == "reference":
            ref_rate[case] = row.get("per_second") or 1.0 / row["seconds"]
            if "probe" in row:
                ref_probe[case] = row["probe"]
        rows.append(row)
    for row in rows:
        mine = row.get("per_second") or 1.0 / row["seconds"]
        row["speedup"] = mine / ref_rate[row["case"]] if row["case"] in ref_rate else None
        if "probe" in row and row["case"] in ref_probe:
            row["probe_max_rel_diff"] = max_rel_diff(row["probe"], ref_probe[row["case"]])
    return rows


def max_rel_diff(values: list[float], reference: list[float]) -> float:
    """The largest |a - b| / max(|a|, |b|, 1e-3) over the probe portfolios: the engines'
    agreement as docs/engine.md defines it (AGREEMENT bounds it)."""
    a, b = np.asarray(values, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape or not len(a):
        return float("inf")
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-3)
    return float(np.max(np.abs(a - b) / scale))


def checks(rows: list[dict]) -> list[str]:
    """What is wrong with the figures: engines that disagree, counts that do not add up."""
    problems = []
    for r in rows:
        where = f"{r['case']} ({r['engine']})"
        if r.get("probe_max_rel_diff", 0.0) > AGREEMENT:
            problems.append(
                f"{where}: fitness differs from the reference by {r['probe_max_rel_diff']:.3g}"
            )
        if r.get("counts_agree") is False:
            problems.append(f"{where}: the evaluator counted other evaluations than the loop made")
    return problems


def format_rows(rows: list[dict]) -> str:
    head = f"{'case':<30} {'engine':<14} {'runs':>4} {'per second':>14} {'seconds':>9} {'peak MB':>8} {'speedup':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        rate = f"{r['per_second']:>14,.0f}" if "per_second" in r else f"{'':>14}"
        secs = f"{r['seconds']:>9.3f}" if "seconds" in r else f"{'':>9}"
        speed = f"{r['speedup']:>8.1f}x" if r.get("speedup") else f"{'':>9}"
        lines.append(
            f"{r['case']:<30} {r['engine']:<14} {r['runs']:>4} {rate} {secs} {r['peak_rss_mb']:>8.0f} {speed}"
        )
    return "\n".join(lines)


def register(areas: argparse._SubParsersAction) -> None:
    parser = areas.add_parser(
        "fitness", help="reference vs tuned fitness engine: evaluations per second"
    )
    parser.add_argument("--strategies", type=int, default=25_544, help="N (the production shape)")
    parser.add_argument("--repeats", type=int, default=3, help="child runs per figure (median)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed work per child run")
    parser.add_argument("--metric", default="ratio", help="the fitness metric evaluated")
    parser.add_argument("--seed", type=int, default=0, help="seed of the matrix and the portfolios")
    parser.add_argument(
        "--source",
        choices=["auto", "twin", "factor"],
        default="auto",
        help="the matrix: the twin, a window-factor matrix, or the twin when its data is there",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here (JSON)")
    parser.set_defaults(func=run)
