"""`stratopt bench search`: the optimize stage on the production shape, and search quality.

0. Speed (--speed): evaluations per CPU-second of every algorithm's search
   loop, both presets, at portfolio size n (default 35), with the default
   config's G = 100 and P = 30, and the same number of plain batch
   evaluations (P = 30 rows per call) timed in the same child: the ratio says
   what the loop costs on top of its evaluations (issue 14: >= 100,000/s, the
   loop at most about 2x the evaluations). Each child times whole searches
   after a warm-up (kernels loaded), until --speed-seconds of CPU per algorithm.

1. Time: the legacy production workload (metric ratio, ULTA on, G = 100,
   P = 30, sizes 35..100, all eight algorithms with their legacy presets),
   the whole optimize stage (read the prepared matrix, search, write the
   runs), each repetition in a fresh child process: with 2 worker processes,
   with 2 threads and with 1 worker. Goal: at most 30 s on 2 cores.
2. Quality: default presets against legacy presets at the same evaluation
   budget (each algorithm's legacy count), the best fitness per size across
   the algorithms, median over seeds, side by side.

The matrix is the production twin (stratopt.synth) when the shared reference
data is there, else a seeded window-factor matrix of the same shape.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from stratopt import contracts
from stratopt.bench.timing import compare, format_table

ALGORITHMS = ["ga", "pso", "sa", "de", "aco", "hc", "bo", "rs"]
GOAL_S = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "search", help="optimize stage time (legacy workload) and search quality"
    )
    parser.add_argument("--strategies", type=int, default=25544, help="N (the production shape)")
    parser.add_argument("--data-seed", type=int, default=20250726, help="seed of the twin")
    parser.add_argument("--min-size", type=int, default=35, help="smallest portfolio size")
    parser.add_argument("--max-size", type=int, default=100, help="largest portfolio size")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument("--seeds", type=int, default=5, help="search seeds for the quality table")
    parser.add_argument("--workers", type=int, default=2, help="optimize workers in the timing")
    parser.add_argument("--skip-timing", action="store_true", help="no optimize-stage timing")
    parser.add_argument("--skip-quality", action="store_true", help="no quality table")
    parser.add_argument(
        "--speed", action="store_true", help="only the loop speed table (see above), then stop"
    )
    parser.add_argument("--speed-size", type=int, default=35, help="n for --speed")
    parser.add_argument("--speed-seconds", type=float, default=1.0, help="CPU s per algorithm")
    parser.add_argument(
        "--speed-budget",
        type=int,
        default=None,
        help="evaluations per search for --speed (default: each algorithm's natural count, "
        "G = 100 for ACO and BO; the pipeline's default config gives every one G x P = 3000)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def prepare_matrix(out: Path, n_strategies: int, seed: int) -> str:
    """prepared.parquet as the pipeline makes it (ULTA applied); returns where it came from."""
    from stratopt.bench.fitness import production_matrix
    from stratopt.data.matrix import Matrix, write_matrix
    from stratopt.engine.ulta import apply_ulta

    values, source = production_matrix(n_strategies, seed, "auto")
    t = values.shape[0]
    dates, days, names = _labels(n_strategies, t)
    inverted, _ = apply_ulta(Matrix(dates=dates, days=days, names=names, values=values))
    write_matrix(inverted, out)
    return source


def shared_data() -> Path:
    """The public reference data folder (beside the checkout, or STRATOPT_SHARED_DATA)."""
    repo = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("STRATOPT_SHARED_DATA", repo.parent / "shared" / "data"))


def _labels(n: int, t: int) -> tuple[np.ndarray, list[str], list[str]]:
    """The real dates and names when the reference data is there, else plain ones."""
    try:
        from stratopt.synth import load_reference

        ref = load_reference(shared_data())
        if len(ref.dates) == t:
            return np.array(ref.dates, dtype="datetime64[D]"), list(ref.days), list(ref.names[:n])
    except Exception:  # noqa: BLE001 - fall back to synthetic labels
        pass
    dates = np.datetime64("2024-01-04") + np.arange(t) * 7
    return dates, [""] * t, [f"strategy {i}" for i in range(n)]


def optimize_child(
    prepared: str,
    runs_dir: str,
    preset: str,
    seed: int,
    workers: int,
    pool: str,
    min_size: int,
    max_size: int,
) -> None:
    """One whole optimize stage, as a timed child runs it."""
    from stratopt.search.optimize import optimize

    settings = _production_settings(preset, seed, min_size, max_size)
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    fresh = tempfile.mkdtemp(dir=runs_dir)  # no checkpoints to resume from
    optimize(prepared, ALGORITHMS, settings, fresh, workers=workers, pool=pool)


def _production_settings(preset: str, seed: int, min_size: int, max_size: int) -> Any:
    """The legacy production search settings (G = 100, P = 30) for one preset and seed."""
    from stratopt.search.settings import OptimizeSettings

    return OptimizeSettings(
        preset=preset,
        min_size=min_size,
        max_size=max_size,
        generations=100,
        population=30,
        seed=seed,
    )


def best_per_size(runs: dict[str, Path]) -> dict[int, tuple[float, str]]:
    """size -> (best fitness, winning algorithm), by the select stage's own rule."""
    from stratopt.selection.select import best_per_size as select_best
    from stratopt.selection.select import load_run

    best = select_best([load_run(path) for path in runs.values()])
    return {size: (entry["fitness"], entry["algorithm"]) for size, entry in best.items()}


def quality(
    prepared: Path, tmp: Path, seeds: int, workers: int, min_size: int, max_size: int
) -> dict[str, Any]:
    """Best fitness per size, median over seeds, default vs legacy presets."""
    from stratopt.search.optimize import optimize

    per: dict[str, dict[int, list[float]]] = {"legacy": {}, "default": {}}
    wins: dict[str, dict[str, int]] = {"legacy": {}, "default": {}}
    for preset in ("legacy", "default"):
        for k in range(seeds):
            settings = _production_settings(preset, k, min_size, max_size)
            runs = optimize(prepared, ALGORITHMS, settings, tmp / f"{preset}-{k}", workers=workers)
            for size, (fit, name) in best_per_size(runs).items():
                per[preset].setdefault(size, []).append(fit)
                wins[preset][name] = wins[preset].get(name, 0) + 1
    rows = []
    for size in sorted(per["legacy"]):
        leg = statistics.median(per["legacy"][size])
        dft = statistics.median(per["default"][size])
        rows.append({"size": size, "legacy": leg, "default": dft, "default_ge_legacy": dft >= leg})
    return {"rows": rows, "wins": wins, "seeds": seeds}


SPEED_GOAL = 100_000.0


def speed_child(
    prepared: str,
    preset: str,
    size: int,
    seconds: float,
    out: str,
    seed: int = 42,
    budget: int | None = None,
) -> None:
    """Evaluations per CPU-second of each algorithm's loop, and of plain evaluation."""
    import dataclasses
    import json
    import time

    from stratopt.algorithms.moves import random_subsets
    from stratopt.data.matrix import read_matrix
    from stratopt.search.runner import build_evaluator, search_one

    def settings_for(run_seed: int) -> Any:
        return dataclasses.replace(
            _production_settings(preset, run_seed, size, size), budget=budget
        )

    settings = settings_for(seed)
    evaluator = build_evaluator(read_matrix(prepared), settings)
    figures: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(seed)
    for name in ALGORITHMS:
        search_one(evaluator, name, size, settings)  # warm-up: its kernels loaded
        evals, used, k = 0, 0.0, 0
        while used < seconds:
            run_settings = settings_for(seed + k)
            start = time.process_time()
            evals += search_one(evaluator, name, size, run_settings)["evaluations"]
            used += time.process_time() - start
            k += 1
        batches = [random_subsets(rng, evaluator.n_strategies, size, 30) for _ in range(64)]
        done, plain = 0, 0.0
        while done < evals:
            batch = batches[(done // 30) % len(batches)]
            start = time.process_time()
            evaluator.evaluate(batch)
            plain += time.process_time() - start
            done += len(batch)
        figures[name] = {
            "evaluations": evals,
            "searches": k,
            "loop_per_s": evals / used,
            "plain_per_s": done / plain,
            "loop_over_plain": used / (plain * evals / done),
        }
    with open(out, "w") as fh:
        json.dump(figures, fh)


def speed_table(
    prepared: Path, tmp: Path, repeats: int, size: int, seconds: float, budget: int | None = None
) -> dict:
    """Medians over `repeats` children per preset, presets alternating."""
    import json

    from stratopt.bench.timing import run_isolated

    runs: dict[str, list[dict]] = {"legacy": [], "default": []}
    for rep in range(repeats):
        for preset in runs:
            out = tmp / f"speed-{preset}-{rep}.json"
            run_isolated(
                f"{__name__}:speed_child",
                {
                    "prepared": str(prepared),
                    "preset": preset,
                    "size": size,
                    "seconds": seconds,
                    "out": str(out),
                    "budget": budget,
                },
            )
            runs[preset].append(json.loads(out.read_text()))
    table: dict[str, dict[str, dict[str, float]]] = {}
    print(
        f"\nSearch loop speed at n = {size} (G = 100, P = 30, "
        f"{'natural budgets' if budget is None else f'{budget} evaluations per search'}), "
        f"evaluations per CPU-second, median of {repeats}"
    )
    print(
        f"{'algorithm':<10} {'preset':<8} {'loop /s':>10} {'plain /s':>10} {'loop/plain':>10}  goal"
    )
    for name in ALGORITHMS:
        for preset, samples in runs.items():
            med = {
                key: statistics.median(s[name][key] for s in samples)
                for key in ("loop_per_s", "plain_per_s", "loop_over_plain")
            }
            table.setdefault(name, {})[preset] = med
            ok = "met" if med["loop_per_s"] >= SPEED_GOAL else "NOT met"
            print(
                f"{name:<10} {preset:<8} {med['loop_per_s']:>10,.0f} {med['plain_per_s']:>10,.0f} "
                f"{med['loop_over_plain']:>9.2f}x  {ok}"
            )
    return table


def _run(args: argparse.Namespace) -> int:
    report: dict[str, Any] = {
        "strategies": args.strategies,
        "sizes": [args.min_size, args.max_size],
    }
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        prepared = contracts.PREPARED.path(tmp)
        source = prepare_matrix(prepared, args.strategies, args.data_seed)
        report["matrix"] = source
        print(f"matrix: {source}, ULTA applied; sizes {args.min_size}..{args.max_size}")
        if args.speed:
            report["speed"] = speed_table(
                prepared,
                tmp,
                args.repeats,
                args.speed_size,
                args.speed_seconds,
                args.speed_budget,
            )
        if not args.skip_timing and not args.speed:
            common = {
                "prepared": str(prepared),
                "runs_dir": str(tmp / "timed"),
                "preset": "legacy",
                "seed": 42,
                "min_size": args.min_size,
                "max_size": args.max_size,
            }
            targets = {
                f"optimize legacy, {args.workers} processes": (
                    f"{__name__}:optimize_child",
                    {**common, "workers": args.workers, "pool": "process"},
                ),
                f"optimize legacy, {args.workers} threads": (
                    f"{__name__}:optimize_child",
                    {**common, "workers": args.workers, "pool": "thread"},
                ),
                "optimize legacy, 1 worker": (
                    f"{__name__}:optimize_child",
                    {**common, "workers": 1, "pool": "process"},
                ),
            }
            results = compare(targets, args.repeats)
            rows = list(results.values())
            print("\nWhole optimize stage, legacy production workload (G=100, P=30, 8 algorithms)")
            print(format_table(rows, baseline="optimize legacy, 1 worker"))
            fastest = min(rows, key=lambda r: r.wall_s)
            print(
                f"goal <= {GOAL_S:.0f} s: fastest {fastest.wall_s:.2f} s ({fastest.name}): "
                f"{'met' if fastest.wall_s <= GOAL_S else 'NOT met'}"
            )
            report["timing"] = {r.name: r.to_dict() for r in rows}
        if not args.skip_quality and not args.speed:
            q = quality(
                prepared, tmp / "quality", args.seeds, args.workers, args.min_size, args.max_size
            )
            print(
                f"\nBest fitness per size (max over the 8 algorithms), median of {args.seeds} seeds, "
                "same evaluations per algorithm"
            )
            print(
                f"{'size':>5} {'legacy presets':>15} {'default presets':>16} {'default/legacy':>15}"
            )
            for r in q["rows"]:
                ratio = r["default"] / r["legacy"] if r["legacy"] > 0 else float("nan")
                flag = "" if r["default_ge_legacy"] else "  <-- lower"
                print(
                    f"{r['size']:>5} {r['legacy']:>15.4f} {r['default']:>16.4f} {ratio:>14.3f}x{flag}"
                )
            ok = sum(r["default_ge_legacy"] for r in q["rows"])
            print(f"default >= legacy on {ok} of {len(q['rows'])} sizes")
            for preset in ("legacy", "default"):
                w = ", ".join(
                    f"{k} {v}" for k, v in sorted(q["wins"][preset].items(), key=lambda kv: -kv[1])
                )
                print(f"wins ({preset} presets, all seeds): {w}")
            report["quality"] = q
    if args.json:
        from stratopt.runtime.atomic import write_json

        write_json(args.json, report)
    return 0
