"""`stratopt bench slurm`: what a SLURM job costs over running the same job locally.

One job (the gpu_probe rule, which needs no input) is forced and run, again
and again, three ways in the same session, alternating: locally with
profiles/default, on SLURM with profiles/slurm, and on SLURM with the
plugin's default first status check (40 s) instead of the profile's 1 s.
The difference of the medians is the per-job (per DAG level) latency that
SLURM adds. Needs a running SLURM (scripts/slurm/setup.sh on a test box, or
a cluster login node; pass --partition/--account there). Optionally the
small CI workload (.test/config) end to end, locally and on SLURM.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from stratopt import contracts
from stratopt.bench.timing import compare, format_table
from stratopt.errors import ConfigError
from stratopt.runtime.slurm_plugins import slurm_env

REPO = Path(__file__).resolve().parents[3]
#: A stuck Snakemake ignores SIGTERM: `timeout -k` kills it.
RUN_TIMEOUT_S = 600


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("slurm", help="per-job SLURM latency: one job local vs on SLURM")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (median; default 3)")
    parser.add_argument(
        "--workload",
        type=Path,
        help="also time this whole workload config (e.g. .test/config/config.yaml) local vs SLURM",
    )
    parser.add_argument("--sample", type=Path, help="input CSV for --workload (absolute path)")
    parser.add_argument("--no-default", action="store_true", help="skip the plugin-default run")
    parser.add_argument("--cores", type=int, default=2, help="cores of one node")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def snakemake_run(workdir: str, args: list[str]) -> None:
    """One Snakemake run of the repository's workflow in `workdir` (a child process)."""
    cmd = ["timeout", "-k", "15", str(RUN_TIMEOUT_S), sys.executable, "-m", "snakemake"]
    cmd += ["--snakefile", str(REPO / "Snakefile"), "--directory", workdir, *args]
    # the SLURM executor plugins live beside the environment (stratopt.runtime.slurm_plugins)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=slurm_env())
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


def _workdir(root: Path, name: str, overlay: str) -> str:
    """A working directory with config/ (the Snakefile's configfile) and an overlay config."""
    work = root / name
    (work / "config").mkdir(parents=True)
    (work / "config" / "config.yaml").write_text((REPO / "config" / "config.yaml").read_text())
    (work / "overlay.yaml").write_text(overlay)
    return str(work)


def _check_cluster() -> None:
    try:
        subprocess.run(["sinfo", "-h"], capture_output=True, timeout=15, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"no SLURM cluster answers here (sinfo: {exc})") from exc


def _targets(args: argparse.Namespace, root: Path) -> dict[str, tuple[str, dict]]:
    """The runs to compare: name -> (child function, its keyword arguments)."""
    profile = REPO / "profiles" / "slurm"  # Snakemake's workflow profile: not a stage file
    slurm = ["--workflow-profile", str(profile), "--cores", str(args.cores)]
    local = ["--cores", str(args.cores)]
    default_init = ["--slurm-init-seconds-before-status-checks", "40"]
    probe = "dataset: bench\nhpc:\n  gpu_probe: true\n"
    runs = {
        "one job, local": ("l", probe, local),
        "one job, SLURM (profile)": ("s", probe, slurm),
    }
    if not args.no_default:
        runs["one job, SLURM (init 40 s)"] = ("d", probe, slurm + default_init)
    if args.workload:
        if not args.sample:
            raise ConfigError("--workload needs --sample (the input CSV)")
        source = json.dumps(str(args.sample.resolve()))
        overlay = f"dataset: bench\ninput:\n  source: {source}\n"
        runs["workload, local"] = ("wl", overlay, local)
        runs["workload, SLURM (profile)"] = ("ws", overlay, slurm)
    targets = {}
    for name, (folder, overlay, how) in runs.items():
        work = _workdir(root, folder, overlay)
        if name.startswith("one job"):
            # The target first: --forcerun takes any number of values.
            target = contracts.GPU_PROBE.path(contracts.results_dir("bench"))
            what = [str(target), "--configfile", f"{work}/overlay.yaml"]
            what += ["--forcerun", "gpu_probe"]
        else:
            what = ["--configfiles", str(args.workload.resolve()), f"{work}/overlay.yaml"]
            what += ["--forceall"]
        targets[name] = (f"{__name__}:snakemake_run", {"workdir": work, "args": how + what})
    return targets


def _run(args: argparse.Namespace) -> int:
    _check_cluster()
    with tempfile.TemporaryDirectory(prefix="bench-slurm-") as tmp:
        results = compare(_targets(args, Path(tmp)), repeats=args.repeats)
    rows = list(results.values())
    print(f"{args.repeats} runs each, alternating, medians (wall = the whole snakemake command)")
    print(format_table(rows, baseline="one job, local"))
    base = results["one job, local"].wall_s
    for name, row in results.items():
        if name.startswith("one job, SLURM"):
            print(f"{name}: {row.wall_s - base:+.1f} s per job over local")
    if args.json:
        args.json.write_text(json.dumps({r.name: r.to_dict() for r in rows}, indent=2))
    return 0
