"""`stratopt bench pipeline`: whole Snakemake runs, ingest to report, rule by rule.

Each repetition is a fresh `snakemake --cores C` of the default target in
results/bench-pipeline-NAME/ (the twin CSV stays cached in results/twin-data/),
timed from the outside (wall; CPU of Snakemake and every job, os.wait4).
Every job logs its own process's CPU from the interpreter's start (imports
included), its wall time, peak resident memory and resident memory at the end
(its own pages and mapped files', apart) when it finishes
(stratopt.runtime.rule.run_rule); those lines give the per-rule figures,
and the whole command's CPU minus the jobs' is Snakemake's own.

NAME is `default` (config/config.yaml) or a workload (config/workloads/NAME.yaml:
its config and input). The `startup` workload (500 real strategies, one small
size, tiny budgets) has jobs that do almost nothing: their CPU is the fixed
cost of a job (interpreter, imports, kernel loading).

`--startup` also times Snakemake's own start: `import snakemake.cli` and a
dry run of the default target, with the SLURM executor plugins on the import
path or not, against a SLURM client whose controller does not answer
(SLURM_CONF naming a controller on a closed local port): the case where the
plugin's import used to wait about 9 s.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from stratopt import contracts
from stratopt.bench.sidebyside.workloads import REPO, load_workload, pipeline_config
from stratopt.bench.timing import _launch

DONE = re.compile(
    r"rule (\w+): done \(cpu ([\d.]+) s, wall ([\d.]+) s, peak rss ([\d.]+) MB"
    r"(?:, at the end anon ([\d.]+) MB, files ([\d.]+) MB)?\)"
)
#: The issue's targets per workload (2 cores, twin cached, quiet machine).
TARGETS: dict[str, dict[str, float]] = {
    "default": {"wall_s": 20.0, "rules_cpu_s": 35.0, "rule_peak_mb": 300.0},
    "one-size": {"wall_s": 8.0, "rule_peak_mb": 300.0},
    "sample-500": {"wall_s": 5.0},
    "startup": {"job_cpu_s": 0.3},
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "pipeline", help="whole Snakemake runs (ingest to report): per-rule CPU, wall, memory"
    )
    parser.add_argument(
        "name",
        nargs="?",
        default="default",
        help="default (config/config.yaml) or a workload name/file (one-size, sample-500, startup)",
    )
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores")
    parser.add_argument(
        "--repeats", type=int, default=3, help="fresh runs of the pipeline (median)"
    )
    parser.add_argument(
        "--startup", action="store_true", help="also time Snakemake's own start (see above)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def run_config(name: str) -> dict[str, Any]:
    """The pipeline config of `name`, with its own dataset folder."""
    if name == "default":
        doc = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
        config = pipeline_config(doc)
        label = "default"
    else:
        w = load_workload(name)
        config = {k: v for k, v in w.config.items() if k != "bench"}
        config["input"] = {**config.get("input", {}), **w.input}
        label = w.name
        source = str(config["input"].get("source", "synthetic"))
        if source != "synthetic":  # relative to the checkout, where Snakemake runs
            config["input"]["source"] = str((REPO / source).resolve())
    config["dataset"] = f"bench-pipeline-{label}"
    return config


def parse_jobs(logs: Path) -> dict[str, dict[str, float]]:
    """job (its log's name) -> {cpu_s, wall_s, peak_mb}, from each job log's closing line."""
    out: dict[str, dict[str, float]] = {}
    for path in sorted(logs.glob("*.log")):
        for m in DONE.finditer(path.read_text(errors="replace")):
            out[path.stem] = {
                "cpu_s": float(m.group(2)),
                "wall_s": float(m.group(3)),
                "peak_mb": float(m.group(4)),
                # resident at the end, the job's own pages and the mapped libraries'
                "anon_mb": float(m.group(5) or "nan"),
                "file_mb": float(m.group(6) or "nan"),
            }
    return out


def one_run(config_path: Path, results: Path, cores: int, log: Path) -> dict[str, Any]:
    shutil.rmtree(results, ignore_errors=True)
    argv = [sys.executable, "-m", "snakemake", "--cores", str(cores)]
    argv += ["--configfile", str(config_path)]
    usage = _launch(argv, str(REPO), str(log))
    if usage["code"] != 0:
        raise RuntimeError(f"snakemake failed ({usage['code']}); see {log}")
    jobs = parse_jobs(results / contracts.LOG.folder)
    jobs_cpu = sum(j["cpu_s"] for j in jobs.values())
    return {
        "wall_s": usage["wall_s"],
        "cpu_s": usage["cpu_s"],
        "jobs_cpu_s": jobs_cpu,
        "snakemake_cpu_s": usage["cpu_s"] - jobs_cpu,
        "jobs": jobs,
    }


def startup_figures(repeats: int) -> dict[str, float]:
    """Median wall and CPU of Snakemake's start, with and without the SLURM plugins."""
    from stratopt.runtime.slurm_plugins import slurm_env

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="stratopt-startup-") as tmp:
        conf = Path(tmp) / "slurm.conf"  # a controller that never answers: a closed port
        conf.write_text(
            "ClusterName=nowhere\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\n"
            "NodeName=localhost CPUs=1 State=UNKNOWN\n"
        )
        plain = {"SLURM_CONF": str(conf)}
        with_plugins = {**slurm_env(), "SLURM_CONF": str(conf)}
        cases = {
            "import snakemake.cli": ([sys.executable, "-c", "import snakemake.cli"], plain),
            "import snakemake.cli, SLURM plugins on the path": (
                [sys.executable, "-c", "import snakemake.cli"],
                with_plugins,
            ),
            "snakemake -n (default target, dry run)": (
                [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--quiet"],
                plain,
            ),
        }
        for name, (argv, env) in cases.items():
            walls, cpus = [], []
            for _ in range(repeats):
                usage = _launch(argv, str(REPO), str(Path(tmp) / "out.txt"), env)
                walls.append(usage["wall_s"])
                cpus.append(usage["cpu_s"])
            out[f"{name}: wall s"] = statistics.median(walls)
            out[f"{name}: cpu s"] = statistics.median(cpus)
    return out


def _median_jobs(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    names = sorted({k for r in runs for k in r["jobs"]})
    return {
        n: {
            key: statistics.median(r["jobs"][n][key] for r in runs if n in r["jobs"])
            for key in ("cpu_s", "wall_s", "peak_mb", "anon_mb", "file_mb")
        }
        for n in names
    }


def _run(args: argparse.Namespace) -> int:
    config = run_config(args.name)
    label = config["dataset"].removeprefix("bench-pipeline-")
    results = REPO / contracts.results_dir(config["dataset"])
    report: dict[str, Any] = {"name": label, "cores": args.cores, "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="stratopt-pipeline-") as tmp:
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        runs = []
        for rep in range(args.repeats):
            run = one_run(config_path, results, args.cores, Path(tmp) / "snakemake.log")
            runs.append(run)
            print(
                f"run {rep + 1}: wall {run['wall_s']:.2f} s, cpu {run['cpu_s']:.2f} s "
                f"(jobs {run['jobs_cpu_s']:.2f} s, snakemake {run['snakemake_cpu_s']:.2f} s)",
                flush=True,
            )
    shutil.rmtree(results, ignore_errors=True)
    jobs = _median_jobs(runs)
    print(f"\n{label}: snakemake --cores {args.cores}, ingest to report, medians of {len(runs)}")
    print(f"{'job':<24} {'cpu s':>8} {'wall s':>8} {'peak MB':>8} {'anon MB':>8} {'files MB':>8}")
    for name, j in sorted(jobs.items(), key=lambda kv: -kv[1]["cpu_s"]):
        print(
            f"{name:<24} {j['cpu_s']:>8.2f} {j['wall_s']:>8.2f} {j['peak_mb']:>8.0f} "
            f"{j['anon_mb']:>8.0f} {j['file_mb']:>8.0f}"
        )
    print(
        "(anon, files: resident at the job's end, its own pages and mapped files; the peak "
        "counts both, and the files' share follows the page cache: docs/performance.md)"
    )
    summary = {
        key: statistics.median(r[key] for r in runs)
        for key in ("wall_s", "cpu_s", "jobs_cpu_s", "snakemake_cpu_s")
    }
    summary["largest_job_peak_mb"] = max(j["peak_mb"] for j in jobs.values())
    summary["largest_job_cpu_s"] = max(j["cpu_s"] for j in jobs.values())
    print(
        f"whole command: wall {summary['wall_s']:.2f} s, cpu {summary['cpu_s']:.2f} s; "
        f"jobs' cpu {summary['jobs_cpu_s']:.2f} s, Snakemake's own {summary['snakemake_cpu_s']:.2f} s; "
        f"largest job peak {summary['largest_job_peak_mb']:.0f} MB"
    )
    report.update(summary=summary, jobs=jobs, runs=runs)
    targets = TARGETS.get(label, {})
    checks = {
        "wall_s": summary["wall_s"],
        "rules_cpu_s": summary["jobs_cpu_s"],
        "rule_peak_mb": summary["largest_job_peak_mb"],
        "job_cpu_s": summary["largest_job_cpu_s"],
    }
    for key, goal in targets.items():
        got = checks[key]
        print(f"target {key} <= {goal:g}: {got:.2f} ({'met' if got <= goal else 'NOT met'})")
    report["targets"] = {k: {"goal": g, "measured": checks[k]} for k, g in targets.items()}
    if args.startup:
        figs = startup_figures(args.repeats)
        print("\nSnakemake start (a SLURM client whose controller does not answer):")
        for key, value in figs.items():
            print(f"  {key:<60} {value:>7.2f}")
        report["startup"] = figs
    if args.json:
        from stratopt.runtime.atomic import write_json

        write_json(args.json, report)
    return 0
