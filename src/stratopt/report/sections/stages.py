"""The stages: each job's Snakemake benchmark file and py-spy profile, and the totals.

Read from benchmarks/{job}.tsv and profiles/{job}.svg + .speedscope.json
(stratopt.contracts.BENCHMARK, PROFILE_SVG, PROFILE_SPEEDSCOPE).
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratopt import contracts as C
from stratopt.report.sections import Reader
from stratopt.runtime.stackprofile import StackProfile, from_speedscope, hottest_frames

# Rules that write a benchmark file but are not stages of the pipeline run:
# `bench` runs a whole side-by-side benchmark (minutes; it would swamp the
# totals), `synth` makes the twin input once, `gpu_probe` looks at the node,
# `chain` runs every stage in one job (each stage writes its own benchmark
# file there, so the chain's own would count them twice).
# They are listed in the report, never summed; every other rule counts.
NOT_PIPELINE_RULES: frozenset[str] = frozenset({"bench", "synth", "gpu_probe", "chain"})
STAGE_NAMES = tuple(name for name, _ in C.STAGES)


@dataclass
class StageRow:
    """One job's measurements (a rule, or a rule with its wildcards)."""

    key: str  # the job, e.g. "correlation_shard_3" (benchmark) or "correlation_shard-3" (profile)
    stage: str  # the stage it belongs to, e.g. "correlation_shard"
    wall_s: float | None = None
    cpu_s: float | None = None
    max_rss_mb: float | None = None
    io_in_mb: float | None = None
    io_out_mb: float | None = None
    mean_load: float | None = None
    repeats: int = 0
    profile: dict[str, Any] | None = None

    @property
    def in_pipeline(self) -> bool:
        """Whether this job is a pipeline stage (counted in the totals)."""
        return self.stage not in NOT_PIPELINE_RULES


def _norm_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def stage_of(key: str) -> str:
    """The stage a job belongs to: the longest known rule name its name starts with."""
    norm = _norm_key(key)
    known = sorted(STAGE_NAMES, key=len, reverse=True)
    for name in [*known, "report", *sorted(NOT_PIPELINE_RULES, key=len, reverse=True)]:
        if norm == name or norm.startswith(name + "_"):
            return name
    return norm or key  # a rule this module does not know: its own name


#: Cells a Snakemake benchmark file writes for a value it could not measure.
MISSING = ("NA", "-", "")


def read_benchmark_tsv(path: Path) -> dict[str, float | int | None]:
    """Medians over the repeats of a Snakemake benchmark file (NA -> None).

    Read with the csv module: pandas cost the report stage ~0.6 s of CPU and
    40 MB to import, for a file of one to a few lines.
    """
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or "s" not in rows[0]:
        raise ValueError("no 's' column: not a Snakemake benchmark file")
    header, body = rows[0], [r for r in rows[1:] if r]
    if any(len(r) != len(header) for r in body):
        raise ValueError(f"expected {len(header)} fields in every line")
    out: dict[str, float | int | None] = {"repeats": len(body)}
    for col in C.BENCHMARK_COLUMNS:
        vals = [_number(r[header.index(col)]) for r in body] if col in header else []
        numbers = [v for v in vals if v is not None]
        out[col] = float(statistics.median(numbers)) if numbers else None
    return out


def _number(cell: str) -> float | None:
    """A cell as a number; None when missing or not a number (as pandas' coerce did)."""
    text = cell.strip()
    if text in MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def load_profile(svg: Path, job: str, reader: Reader) -> dict[str, Any]:
    """A profile's files, and its hottest frames from the speedscope JSON beside the SVG."""
    speedscope = C.PROFILE_SPEEDSCOPE.path(reader.results, job=job)
    hot: list[dict[str, Any]] = []
    seconds = samples = None
    if speedscope.exists():
        try:
            profile: StackProfile = from_speedscope(
                json.loads(speedscope.read_text(encoding="utf-8"))
            )
            hot = hottest_frames(profile, top=10)
            seconds, samples = profile.seconds, profile.samples
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            reader.broke(speedscope, f"{speedscope}: not a speedscope profile ({exc})")
    return {
        "key": job,
        "svg_path": svg,
        "speedscope_path": speedscope if speedscope.exists() else None,
        "hot": hot,
        "seconds": seconds,
        "samples": samples,
    }


def _job(path: Path, output: C.Output) -> str:
    """The {job} of a file of `output` (its name without the fixed suffix)."""
    suffix = output.file_name(job="")
    return path.name[: -len(suffix)]


def collect_stages(reader: Reader) -> list[StageRow]:
    """One row per benchmark file or profile, matched by normalised job name, in stage order."""
    rows: dict[str, StageRow] = {}
    for path in C.BENCHMARK.glob(reader.results):
        key = _job(path, C.BENCHMARK)
        try:
            b = read_benchmark_tsv(path)
        except (OSError, ValueError) as exc:
            reader.broke(path, f"{path}: unreadable benchmark ({exc})")
            continue
        rows[_norm_key(key)] = StageRow(
            key=key,
            stage=stage_of(key),
            wall_s=b["s"],
            cpu_s=b["cpu_time"],
            max_rss_mb=b["max_rss"],
            io_in_mb=b["io_in"],
            io_out_mb=b["io_out"],
            mean_load=b["mean_load"],
            repeats=int(b["repeats"] or 0),
        )
    for svg in C.PROFILE_SVG.glob(reader.results):
        job = _job(svg, C.PROFILE_SVG)
        profile = load_profile(svg, job, reader)
        row = rows.setdefault(_norm_key(job), StageRow(key=job, stage=stage_of(job)))
        row.profile = profile
    order = {name: i for i, name in enumerate(STAGE_NAMES)}
    order["report"] = len(order)
    return sorted(
        rows.values(), key=lambda r: (order.get(r.stage, len(order) + 1), C.natural_key(r.key))
    )


def stage_totals(rows: list[StageRow]) -> dict[str, Any] | None:
    """Per pipeline stage (jobs summed): wall, CPU; the largest peak of its jobs.

    Jobs that are not pipeline stages (the `bench` rule above all: it runs
    a whole benchmark and would swamp the figures) are named in `excluded`.
    """
    counted = [r for r in rows if r.wall_s is not None and r.in_pipeline]
    excluded = [r.key for r in rows if r.wall_s is not None and not r.in_pipeline]
    if not counted:
        return None
    per: dict[str, dict[str, Any]] = {}
    for r in counted:
        agg = per.setdefault(
            r.stage, {"stage": r.stage, "jobs": 0, "wall_s": 0.0, "cpu_s": 0.0, "max_rss_mb": 0.0}
        )
        agg["jobs"] += 1
        agg["wall_s"] += r.wall_s
        agg["cpu_s"] += r.cpu_s or 0.0
        agg["max_rss_mb"] = max(agg["max_rss_mb"], r.max_rss_mb or 0.0)
    stages = list(per.values())
    return {
        "stages": stages,
        "wall_s": sum(s["wall_s"] for s in stages),
        "cpu_s": sum(s["cpu_s"] for s in stages),
        "max_rss_mb": max(s["max_rss_mb"] for s in stages),
        "excluded": excluded,
    }
