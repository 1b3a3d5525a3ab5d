"""`stratopt bench report`: how long the run report takes to render, and how big it is.

The target (docs/report.md) is under 2 s for the production twin's results.
Two figures per results folder, each the median of fresh child processes
(stratopt.bench.timing.run_isolated), alternating between folders:

- `render`: importing stratopt.report and calling write_report (collect,
  charts, template, the atomic write): the report's own cost;
- `command`: the whole `python -m stratopt report RESULTS OUT` process, as a
  user or the Snakemake rule waits for it (interpreter start, the CLI's
  command discovery, the render).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.bench.timing import Summary, compare


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="render time and size of the run report")
    parser.add_argument(
        "results",
        type=Path,
        nargs="*",
        default=[Path(contracts.results_dir("twin"))],
        help="results folders (default results/twin)",
    )
    parser.add_argument("--config", type=Path, help="the run's config YAML, shown in the report")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (median)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def render(results: str, out: str, config: str | None) -> None:
    """One render in this (fresh) process: the report's imports count."""
    import yaml

    from stratopt.report.render import write_report

    cfg = yaml.safe_load(Path(config).read_text(encoding="utf-8")) if config else None
    write_report(results, out, cfg)


def command(results: str, out: str, config: str | None) -> None:
    """The whole `stratopt report` command as a subprocess."""
    argv = [sys.executable, "-m", "stratopt", "report", results, out]
    if config:
        argv += ["--config", config]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _rows(results: list[Path], summaries: dict[str, Summary], outs: dict[str, Path]) -> list[dict]:
    rows = []
    for res in results:
        html = outs[str(res)]
        profiles = contracts.PROFILE_SVG.glob(res)
        rows.append(
            {
                "results": str(res),
                "profiles": len(profiles),
                "profile_svg_bytes": sum(p.stat().st_size for p in profiles),
                "render_s": summaries[f"render {res}"].wall_s,
                "render_cpu_s": summaries[f"render {res}"].cpu_s,
                "command_s": summaries[f"command {res}"].wall_s,
                "html_bytes": html.stat().st_size if html.exists() else None,
            }
        )
    return rows


def _run(args: argparse.Namespace) -> int:
    from stratopt.errors import InputError

    for res in args.results:
        if not res.is_dir():
            raise InputError(res, "no such results folder", expected="results/{dataset}/")
    config = str(args.config) if args.config else None
    targets: dict[str, tuple[str, dict[str, Any]]] = {}
    outs: dict[str, Path] = {}
    for i, res in enumerate(args.results):
        # written beside the results, as report.html is (its profile links are relative)
        out = res / f".bench-report-{i}.html"
        outs[str(res)] = out
        kwargs = {"results": str(res), "out": str(out), "config": config}
        targets[f"render {res}"] = (f"{__name__}:render", kwargs)
        targets[f"command {res}"] = (f"{__name__}:command", kwargs)
    try:
        summaries = compare(targets, repeats=args.repeats)
        rows = _rows(args.results, summaries, outs)
    finally:
        for out in outs.values():
            out.unlink(missing_ok=True)
    print(f"{args.repeats} runs each, alternating; medians; fresh process per run")
    print(
        f"{'results':<28} {'profiles':>8} {'SVG MB':>7} {'render s':>9} {'CPU s':>7} "
        f"{'command s':>10} {'HTML KB':>8}"
    )
    for r in rows:
        print(
            f"{r['results']:<28} {r['profiles']:>8} {r['profile_svg_bytes'] / 2**20:>7.1f} "
            f"{r['render_s']:>9.3f} {r['render_cpu_s']:>7.3f} {r['command_s']:>10.3f} "
            f"{(r['html_bytes'] or 0) / 1024:>8.0f}"
        )
    if args.json:
        doc = {
            "repeats": args.repeats,
            "rows": rows,
            "runs": {k: v.to_dict() for k, v in summaries.items()},
        }
        args.json.write_text(json.dumps(doc, indent=2))
    return 0
