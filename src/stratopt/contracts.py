"""The stage contracts: every file a rule writes under results/{dataset}/, and its shape.

One entry per output: its path (Snakemake wildcards as `{name}`), the rule
that writes it, and for JSON and Parquet outputs the keys or columns its
readers may rely on, with their types. Writers check a document before
writing it (`checked`, `check_schema`); readers read through `read_json` (and
stratopt.data.matrix.read_output for Parquet), which say None when the file is absent (the stage did not run) and raise
ContractError, naming the file and the key or column, when it is present but
breaks its contract. Producers may add keys and columns; readers rely only
on what is listed here.

Imported by the Snakefile when it is parsed and by every stage, so this
module needs the standard library only (runtime.atomic parses JSON with orjson
where that is installed, as it is with stratopt): a Parquet schema is checked here
(`check_schema`), read by stratopt.data.matrix (`check_parquet`, `read_output`).

A JSON spec is a type (int, float, str, bool, dict, list, None), a tuple of
specs (any of them), a dict {key: spec} (keys ending in "?" may be absent;
other keys are allowed; the key "*" stands for every key: a mapping of names
to specs) or a one-item list [spec] (every item). A float accepts an integer;
no number accepts a boolean.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratopt.errors import InputError
from stratopt.runtime.atomic import loads_strict

Spec = Any


class ContractError(InputError):
    """A stage output that breaks its contract (or an output about to be written that would)."""


# ---------------------------------------------------------------- checking a JSON document


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return "boolean"
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, (str, os.PathLike)):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return "array"
    return type(value).__name__


_KINDS = {
    int: ("integer",),
    float: ("integer", "number"),
    str: ("string",),
    bool: ("boolean",),
    dict: ("object",),
    list: ("array",),
    None: ("null",),
}


def _accepts(spec: Spec) -> tuple[str, ...]:
    if isinstance(spec, dict):
        return ("object",)
    if isinstance(spec, list):
        return ("array",)
    return _KINDS[spec]


def _describe(spec: Spec) -> str:
    if isinstance(spec, tuple):
        return " or ".join(_describe(s) for s in spec)
    return "number" if spec is float else _accepts(spec)[0]


def check_spec(value: Any, spec: Spec, where: str = "") -> list[str]:
    """Every way `value` breaks `spec` (at most a few), each as "key path: problem"."""
    problems: list[str] = []
    _check(value, spec, where, problems)
    return problems


#: The plain Python types a simple spec accepts as they are: the fast path of a check.
_EXACT: dict[Any, tuple[type, ...]] = {
    int: (int,),
    float: (float, int),
    str: (str,),
    bool: (bool,),
    dict: (dict,),
    list: (list,),
    None: (type(None),),
}


def _exact(spec: Spec) -> tuple[type, ...] | None:
    """The types that fit a spec of plain types without a closer look (None: look closer)."""
    if isinstance(spec, tuple):
        found: list[type] = []
        for part in spec:
            types = _exact(part)
            if types is None:
                return None
            found.extend(types)
        return tuple(found)
    return None if isinstance(spec, (dict, list)) else _EXACT[spec]


def _check(value: Any, spec: Spec, where: str, problems: list[str]) -> None:
    if len(problems) >= 5:
        return
    kind = _kind(value)
    options = spec if isinstance(spec, tuple) else (spec,)
    fitting = [s for s in options if kind in _accepts(s)]
    if not fitting:
        problems.append(f"{where or 'the document'}: expected {_describe(spec)}, got {kind}")
        return
    chosen = fitting[0]
    if isinstance(chosen, dict):
        for key, sub in chosen.items():
            if key == "*":
                for name, item in value.items():
                    _check(item, sub, f"{where}.{name}" if where else str(name), problems)
                continue
            name = key.rstrip("?")
            path = f"{where}.{name}" if where else name
            if name in value:
                _check(value[name], sub, path, problems)
            elif not key.endswith("?"):
                problems.append(f"{path}: missing")
    elif isinstance(chosen, list):
        items = value if isinstance(value, (list, tuple)) else value.tolist()
        exact = _exact(chosen[0]) or ()
        for i, item in enumerate(items):
            if type(item) in exact:  # a plain value of a plain type: nothing more to see
                continue
            _check(item, chosen[0], f"{where}[{i}]", problems)
            if len(problems) >= 5:
                return


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True, eq=False)  # each output is one object: compared and hashed by identity
class Output:
    """One file (or folder) a rule writes, relative to results/{dataset}/."""

    name: str  # e.g. "runs/{algorithm}.json"
    rule: str  # the rule that writes it
    what: str
    json: Spec = None  # the JSON document's spec
    columns: Mapping[str, str] = field(default_factory=dict)  # Parquet: column -> Arrow type
    metadata: bytes | None = None  # Parquet: a schema-metadata key the readers need

    def path(self, results: str | Path, **wildcards: Any) -> Path:
        """The file for these wildcard values (the others stay `{name}`)."""
        return Path(results) / fill(self.name, **wildcards)

    def file_name(self, **wildcards: Any) -> str:
        """The file's own name (e.g. in a folder a caller chose: `stratopt optimize RUNS_DIR`)."""
        return fill(Path(self.name).name, **wildcards)

    @property
    def folder(self) -> str:
        """The folder it lies in under results/{dataset}/ ("" at the top)."""
        parent = Path(self.name).parent.as_posix()
        return "" if parent == "." else parent

    def glob(self, results: str | Path) -> list[Path]:
        """Every existing file of this output, in natural order (shard_2 before shard_10)."""
        found = Path(results).glob(re.sub(r"\{\w+\}", "*", self.name))
        return sorted(found, key=lambda p: natural_key(p.name))

    def exists(self, results: str | Path) -> bool:
        return bool(self.glob(results))

    def checked(self, doc: Any, where: str | Path | None = None) -> Any:
        """`doc` itself, once it fits the JSON spec (writers call this before writing)."""
        if self.json is None:
            raise TypeError(f"{self.name} has no JSON contract")
        problems = check_spec(doc, self.json)
        if problems:
            raise ContractError(where or self.name, _say(problems), column=_key(problems[0]))
        return doc

    def read_json(self, results: str | Path, **wildcards: Any) -> Any:
        """The document, checked; None when the file does not exist."""
        return self.read_json_at(self.path(results, **wildcards))

    def read_json_at(self, path: str | Path) -> Any:
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ContractError(path, f"unreadable ({exc.strerror or exc})") from None
        try:
            doc = loads_strict(data)
        except ValueError as exc:
            raise ContractError(path, f"not valid JSON: {exc}") from None
        return self.checked(doc, path)

    def check_schema(self, schema: Any, where: str | Path | None = None) -> None:
        """A pyarrow schema against the columns (and metadata key) of this output."""
        problems = []
        for column, wanted in self.columns.items():
            index = schema.get_field_index(column)
            if index < 0:
                problems.append(f"{column}: missing")
                continue
            got, wanted = _arrow_type(str(schema.field(index).type)), _arrow_type(wanted)
            if not (got == wanted or wanted.endswith("*") and got.startswith(wanted[:-1])):
                problems.append(f"{column}: expected {wanted.rstrip('*')}, got {got}")
        if self.metadata and self.metadata not in (schema.metadata or {}):
            problems.append(f"schema metadata {self.metadata.decode()!r}: missing")
        if problems:
            raise ContractError(where or self.name, _say(problems), column=_key(problems[0]))


def fill(pattern: str, **wildcards: Any) -> str:
    """`pattern` with the given wildcards filled in; the others stay `{name}`."""
    return re.sub(r"\{(\w+)\}", lambda m: str(wildcards.get(m[1], m[0])), pattern)


def natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _arrow_type(text: str) -> str:
    """An Arrow type's text without the list field's name (`item` in memory, `element` on disk)."""
    return re.sub(r"<(item|element): ", "<", text)


def _say(problems: list[str]) -> str:
    return "breaks its contract: " + "; ".join(problems)


def _key(problem: str) -> str | None:
    key = problem.split(":", 1)[0]
    return None if key == "the document" else key


# ---------------------------------------------------------------- the documents

NUM = (float, None)  # strict JSON writes a non-finite figure as null
SOURCE = {"path": str, "sha256": str, "bytes": int}
MATRIX_COLUMNS = {
    "strategy_id": "int32",
    "strategy": "string",
    "label": "string",
    "pnl": "fixed_size_list<element: double>*",
}
#: The eight figures of a portfolio (stratopt.engine.portfolio_metrics.PERFORMANCE_KEYS).
PORTFOLIO_METRICS = ("total_roi", "max_drawdown", "win_percentage", "profit_factor", "expectancy",
                     "sharpe_ratio", "sortino_ratio", "annualized_return")  # fmt: skip
#: The five per-strategy metrics of strategy_metrics.* (the legacy's names).
STRATEGY_METRICS = ("ROI", "Max Drawdown", "Win Percentage", "Profit Factor", "Expectancy")
RUN_SIZE = {
    "size": int,
    "best": [int],
    "fitness": NUM,
    "evaluations": int,
    "seconds": float,
    "trace": list,
    "convergence": [[float]],
    "names?": [str],
    "seed?": [int],
}
FIGURES = {
    "sessions": int,
    "roi": float,
    "max_drawdown": float,
    "ratio": NUM,
    "guarded_ratio": NUM,
    "win_rate": float,
    "mean_pnl": float,
    "std": float,
}
POOLED = {
    **FIGURES,
    "percentile": NUM,
    "survival": NUM,
    "spearman_median": NUM,
    "random": {
        "count": int,
        "quantiles": {"5": float, "50": float, "95": float},
        "histogram": {"edges": [float], "counts": [int]},
    },
    "top_roi?": {**FIGURES, "percentile": NUM},
    "top_ratio?": {**FIGURES, "percentile": NUM},
}
SPAN = {"first": str, "last": str, "sessions": int, "start_index": int}
PICK = {
    "algorithm": str,
    "train_fitness": NUM,
    "train": FIGURES,
    "test": FIGURES,
    "percentile": NUM,
    "survival": NUM,
    "flags": [str],
}
SELECTED = {
    "size": int,
    "algorithm": str,
    "fitness": float,
    "fitness_by_algorithm": {"*": NUM},
    "evaluations_by_algorithm": {"*": int},
    "guarded_fitness": NUM,
    "flags": [str],
    "evaluations": int,
    "indices": [int],
    "names": [str],
    "metrics": dict,
}
ZONE_SIZE = {
    "size": int,
    "algorithm": str,
    "fitness": float,
    "best_overall": bool,
    "roi": float,
    "zones": [{"zone": str, "weight": float, "roi": float, "contribution": float}],
}
MEASURE = {
    "runs": int,
    "wall_s": float,
    "cpu_s": float,
    "peak_rss_mb": float,
    "extrapolated?": bool,
}
BENCH_ROW = {"baseline": (MEASURE, None), "tuned": (MEASURE, None), "ratio": {"wall_s": NUM}}
TARGET = {"target": float, "measured": NUM, "met": (bool, None)}

# ---------------------------------------------------------------- every output, by stage

MATRIX = Output("matrix.parquet", "ingest", "the P&L matrix as read", columns=MATRIX_COLUMNS,
                metadata=b"stratopt")  # fmt: skip
INGEST = Output("ingest.json", "ingest", "what ingest read: shape, dates, names, sources", json={
    "rows": int, "strategies": int, "first_date": (str, None), "last_date": (str, None),
    "dates": [str], "days": [str], "periods_per_year": float, "sources": [SOURCE],
    "blank_cells_total": int, "blank_cells": dict, "warnings": [str], "names": [str],
    "zones?": [str], "zone_rows?": int, "dropped_zone_rows?": int})  # fmt: skip
#: Where `ingest` stages its two outputs before publish_ingest links them into place.
STAGED = "ingest/{stamp}/{name}"
LOAD_DB_FILE = Output("db/load.duckdb", "load_db", "the loaded tables (DuckDB)")
LOAD = Output("load.json", "load_db", "what went into which table", json={
    "database": str, "source": str, "days": int, "strategies": int, "tables": dict,
    "zones": (list, None), "first_date": (str, None), "last_date": (str, None),
    "seconds": dict})  # fmt: skip
PREPARE_DB_FILE = Output("db/prepare.duckdb", "prepare", "the prepared tables (DuckDB)")
PREPARED = Output("prepared.parquet", "prepare", "the matrix after the date filter and ULTA",
                  columns=MATRIX_COLUMNS, metadata=b"stratopt")  # fmt: skip
METRICS_CSV = Output("strategy_metrics.csv", "prepare", "per-strategy metrics, legacy layout")
METRICS = Output("strategy_metrics.parquet", "prepare", "per-strategy metrics", columns={
    "strategy": "string", "inverted": "bool",
    **dict.fromkeys(STRATEGY_METRICS, "double")})  # fmt: skip
INVERSION_MD = Output("inversion_report.md", "prepare", "the inverted strategies, legacy layout")
INVERSION = Output("inversion.parquet", "prepare", "each inverted strategy before and after",
                   columns={"strategy": "string", "original_roi": "double",
                            "inverted_roi": "double"})  # fmt: skip
PREPARE = Output("prepare.json", "prepare", "the date range, ULTA and the paths taken", json={
    "database": str, "date_range": {"start": (str, None), "end": (str, None)},
    "first_date": str, "last_date": str, "days": int, "strategies": int, "ulta": bool,
    "inverted": int, "zone": {"enabled": bool}, "compute": str, "paths": dict,
    "tables": [str], "seconds": dict})  # fmt: skip
CORRELATION_SHARD = Output("correlation/shard_{shard}.parquet", "correlation_shard",
                           "one shard's pair statistics", metadata=b"stratopt_correlation",
                           columns={"kind": "dictionary<values=string*", "i": "int64",
                                    "j": "int64", "r": "double", "n": "int64"})  # fmt: skip
PAIR = {"i": int, "j": int, "a": str, "b": str, "r": float}
CORRELATION = Output("correlation.json", "correlation_summary", "all-pairs statistics", json={
    "n_strategies": int, "n_days": int, "pairs": int, "shards": int, "settings": dict,
    "histogram": {"edges": [float], "counts": [int]},
    "thresholds": [{"abs_r_at_least": float, "pairs": int, "fraction": float}],
    "top_pairs": {"positive": [PAIR], "negative": [PAIR]}, "partners": list,
    "near_duplicates": {"threshold": float, "pairs": int, "groups": int, "members": [[str]]},
    "windows": {"labels": [str], "mean_r": [[NUM]], "pairs": list}})  # fmt: skip
RUN = Output("runs/{algorithm}.json", "optimize", "one algorithm's best portfolio per size", json={
    "algorithm": str, "preset": str, "settings": dict, "input": {"path": str, "sha256": str},
    "n_strategies": int, "n_days": int, "skipped_sizes": [int], "sizes": [RUN_SIZE],
    "zone_mode?": bool})  # fmt: skip
CHECKPOINT = Output("runs/{algorithm}/size_{size}.json", "optimize", "a finished size",
                    json={"fingerprint": str, "result": RUN_SIZE})  # fmt: skip
VALIDATION = Output("validation.json", "validate", "the out-of-sample result", json={
    "schema": str, "input": {"path": str, "sha256": str}, "settings": dict,
    "sessions": {"count": int, "first": str, "last": str, "out_of_sample": int},
    "folds": [{"fold": int, "train": SPAN, "test": SPAN, "inverted": (int, None),
               "sizes": [{"size": int, "pick": PICK, "algorithms": list, "spearman": NUM}]}],
    "by_size": [{"size": int, "pooled": POOLED, "flags": list, "skill": bool, "verdict": str}],
    "recommended_size": int, "recommendation_rule": str, "pooled": POOLED,
    "skill": bool, "verdict": str})  # fmt: skip
VALIDATION_OOS = Output("validation_oos.parquet", "validate", "the stitched test sessions",
                        columns={"size": "int32", "fold": "int32", "session": "int32",
                                 "date": "date32[day]", "pick": "double", "pick_equity": "double",
                                 "top_roi": "double", "top_ratio": "double"})  # fmt: skip
PORTFOLIOS = Output("portfolios.parquet", "select", "the best portfolio per size",
                    metadata=b"stratopt", columns={
    "size": "int32", "algorithm": "string", "fitness": "double", "best_overall": "bool",
    "guarded_fitness": "double", "flags": "string", "evaluations": "int64",
    "indices": "list<element: int32>", "names": "list<element: string>",
    **dict.fromkeys(PORTFOLIO_METRICS, "double")})  # fmt: skip
SUMMARY = Output("summary.json", "select", "the winners, all fitnesses, the choice", json={
    "periods_per_year": float, "metric": (str, None), "preset": (str, None),
    "algorithms": [str], "wins": {"*": int}, "best_overall": SELECTED,
    "best_overall_rule": {"rule": str, "text": str}, "flag_drawdown_below": float,
    "flagged_sizes": [int], "sizes": [SELECTED], "legacy_outputs": str})  # fmt: skip
ZONES = Output("zones.json", "select", "zone mode and each winner's zone contributions", json={
    "zone_mode": bool, "zones?": [str], "weights?": [float], "sizes?": [ZONE_SIZE],
    "best_overall?": (ZONE_SIZE, None)})  # fmt: skip
LEGACY_DIR = Output("portfolios", "select", "the legacy's files (a folder)")
LEGACY_BEST = "best_portfolio_size{size}.txt"  # in LEGACY_DIR, as are the three below
LEGACY_SUMMARY = "optimization_summary.txt"
LEGACY_EQUITY = "equity_curve_size{size}.png"
LEGACY_DRAWDOWN = "drawdown_size{size}.png"
LEGACY_FIGURES = "{figure}_size{size}.png"  # both pictures: figure = equity_curve or drawdown
RESULTS_DB = Output("stratopt.duckdb", "store_results", "the complete database (DuckDB)")
STORED = Output("stored.json", "store_results", "the tables written back",
                json={"backend": str, "tables": {"*": int}})  # fmt: skip
REPORT = Output("report.html", "report", "the run report")
#: What `snakemake --report` includes beside Snakemake's own pages (docs/report.md).
REPORT_STANDALONE = Output(
    "snakemake-report/run_report.html", "report", "the report, self-contained"
)
REPORT_FLAMEGRAPHS = Output(
    "snakemake-report/flamegraphs", "report", "each profile's SVG (a folder)"
)
REPORT_SPEEDSCOPE = Output(
    "snakemake-report/speedscope", "report", "each profile's speedscope JSON"
)
BENCH = Output("bench.json", "bench", "the side-by-side benchmark (stratopt-bench/1)", json={
    "schema": str, "workload": str, "description?": str, "created?": str,
    "input": {"path": str, "bytes": int}, "strategies": int, "days": int,
    "baseline": {"label": str, "repeats": int, "kind?": str},
    "tuned": {"label": str, "repeats": int}, "stages": {"*": BENCH_ROW}, "total": BENCH_ROW,
    "total_without_correlation?": (BENCH_ROW, None), "speedup": NUM, "cpu_speedup": NUM,
    "strategies_per_s?": NUM, "equivalence_passed": (bool, None),
    "extrapolated": bool, "extrapolation?": (dict, None),
    "targets": {"*": TARGET}, "snakemake?": (dict, None), "notes": [str]})  # fmt: skip
BENCH_MD = Output("bench.md", "bench", "the benchmark's table")
GPU_PROBE = Output("hpc/gpu_probe.json", "gpu_probe", "what a job saw of its GPU", json=dict)
LOG = Output("logs/{job}.log", "every rule", "a job's log")
BENCHMARK = Output("benchmarks/{job}.tsv", "every rule", "a job's Snakemake benchmark")
PROFILE_SVG = Output("profiles/{job}.svg", "every rule", "a profiled job's flamegraph")
PROFILE_SPEEDSCOPE = Output(
    "profiles/{job}.speedscope.json", "every rule", "its speedscope profile"
)
#: The twin input, cached per seed and size (relative to the working directory, not results/).
TWIN_CSV = "results/twin-data/twin_seed{seed}_n{n}.csv"
#: Snakemake's benchmark columns the report reads (medians over repeats; NA allowed).
BENCHMARK_COLUMNS = ("s", "max_rss", "max_vms", "max_uss", "max_pss", "io_in", "io_out",
                     "mean_load", "cpu_time")  # fmt: skip

#: The pipeline's stages in order, and the outputs that show each one finished.
STAGES: tuple[tuple[str, tuple[Output, ...]], ...] = (
    ("ingest", (MATRIX, INGEST)),
    ("load_db", (LOAD,)),
    ("prepare", (PREPARED, PREPARE)),
    ("correlation_shard", (CORRELATION_SHARD,)),
    ("correlation_summary", (CORRELATION,)),
    ("optimize", (RUN,)),
    ("validate", (VALIDATION, VALIDATION_OOS)),
    ("select", (PORTFOLIOS, SUMMARY, ZONES)),
    ("store_results", (STORED,)),
)

ALL: tuple[Output, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Output))


def results_dir(dataset: str) -> str:
    """results/{dataset}: where every output above lies (relative to the working directory)."""
    return f"results/{dataset}"
