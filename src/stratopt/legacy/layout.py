"""best_portfolio_size{n}.txt and the optimization summary: the writers and the one parser.

The layout, line for line, is that of the legacy's real files
(../shared/data/legacy-outputs; docs/legacy.md shows both):

    Best Portfolio (Size 35) - Method: SA
    Fitness: 30.382062688374408
    <blank>
    Performance Metrics:
    total_roi: 16571.69311200011
    ... (the eight figures, in the legacy's order)
    <blank>
    Selected Strategies:
    1. <file stem>_<strategy name>

Numbers are Python's repr of the float (what the legacy's f-strings print),
lines end in CRLF (legacy.NEWLINE). The parser reads the legacy's files and
ours alike: a `LegacyText` with the fields, the sections, the numbered names
and a `skeleton` (the kind of every line, the numbered list as one entry),
so that two files have the same structure exactly when their skeletons match.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratopt.legacy import NEWLINE

SUMMARY_TITLE = "Multi-Strategy Portfolio Optimization Results"
SUMMARY_RULE = "=" * 43
METRICS_SECTION = "Performance Metrics"
STRATEGIES_SECTION = "Selected Strategies"
PARAMETERS_SECTION = "Optimization Parameters"
OVERALL_SECTION = "Best Overall Portfolio"
#: The legacy clamps the mutation rate to this range before it prints or uses it.
MUTATION_RANGE = (0.01, 0.5)

_BEST_HEAD = re.compile(r"^Best Portfolio \(Size (?P<size>\d+)\) - Method: (?P<method>.*)$")
_ITEM = re.compile(r"^(?P<i>\d+)\. (?P<name>.*)$")
_BULLET = re.compile(r"^- (?P<key>[^:\s][^:]*): (?P<value>.*)$")
_FIELD = re.compile(r"^(?P<key>[^:\s-][^:]*): (?P<value>.*)$")
_SECTION = re.compile(r"^(?P<name>[^:\s][^:]*):$")
_RULE = re.compile(r"^=+$")


def number(x: float) -> str:
    """A number as the legacy prints it: Python's repr of the float ('inf' included)."""
    return repr(float(x))


def _lines(lines: Sequence[str]) -> str:
    return NEWLINE.join(lines) + NEWLINE


def _numbered(names: Sequence[str]) -> list[str]:
    return [f"{i}. {name}" for i, name in enumerate(names, start=1)]


# ---------------------------------------------------------------- writers


def best_portfolio_text(
    size: int,
    method: str,
    fitness: float,
    metrics: Mapping[str, float],
    names: Sequence[str],
) -> str:
    """best_portfolio_size{n}.txt: `metrics` in their order, `names` as the legacy writes them."""
    lines = [
        f"Best Portfolio (Size {size}) - Method: {method}",
        f"Fitness: {number(fitness)}",
        "",
        f"{METRICS_SECTION}:",
        *(f"{key}: {number(value)}" for key, value in metrics.items()),
        "",
        f"{STRATEGIES_SECTION}:",
        *_numbered(names),
    ]
    return _lines(lines)


@dataclass(frozen=True)
class RunStamp:
    """The summary's `Run ID` (YYYYMMDD_HHMMSS) and `Date` (YYYY-MM-DD HH:MM:SS)."""

    run_id: str
    date: str

    @classmethod
    def at(cls, when: dt.datetime) -> RunStamp:
        return cls(when.strftime("%Y%m%d_%H%M%S"), when.strftime("%Y-%m-%d %H:%M:%S"))

    @classmethod
    def now(cls) -> RunStamp:
        """The local time, as the legacy stamps its runs; SOURCE_DATE_EPOCH (the
        reproducible-builds convention, seconds since 1970, UTC) fixes it, so that
        two runs of the same config can give byte-identical files."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch:
            return cls.at(dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC))
        return cls.at(dt.datetime.now())


def summary_parameters(settings: Mapping[str, Any], ulta: bool) -> list[tuple[str, str]]:
    """The summary's `Optimization Parameters`, from a run's search settings.

    `settings` holds metric, min_size, max_size, population, mutation_rate,
    generations, balanced and penalty_factor (optimize.OptimizeSettings);
    `ulta` whether the prepared matrix was inverted.
    """
    low, high = MUTATION_RANGE
    rate = max(low, min(high, float(settings["mutation_rate"])))
    return [
        ("Metric", str(settings["metric"])),
        ("Min Portfolio Size", str(int(settings["min_size"]))),
        ("Max Portfolio Size", str(int(settings["max_size"]))),
        ("Population Size", str(int(settings["population"]))),
        ("Mutation Rate", number(rate)),
        ("GA Generations", str(int(settings["generations"]))),
        ("Apply ULTA Logic", str(bool(ulta))),
        ("Balanced Mode", str(bool(settings["balanced"]))),
        ("Penalty Factor", number(float(settings["penalty_factor"]))),
    ]


def summary_text(
    stamp: RunStamp,
    parameters: Sequence[tuple[str, str]],
    size: int,
    method: str,
    fitness: float,
    names: Sequence[str],
) -> str:
    """optimization_summary.txt: the run, its parameters and the best overall portfolio."""
    lines = [
        SUMMARY_TITLE,
        SUMMARY_RULE,
        "",
        f"Run ID: {stamp.run_id}",
        f"Date: {stamp.date}",
        "",
        f"{PARAMETERS_SECTION}:",
        *(f"- {label}: {value}" for label, value in parameters),
        "",
        f"{OVERALL_SECTION}:",
        f"- Size: {size}",
        f"- Method: {method}",
        f"- Fitness: {number(fitness)}",
        "",
        f"{STRATEGIES_SECTION}:",
        *_numbered(names),
    ]
    return _lines(lines)


# ---------------------------------------------------------------- the parser


@dataclass
class LegacyText:
    """One parsed best_portfolio or summary file."""

    kind: str  # "best_portfolio" or "summary"
    size: int | None = None  # from the best_portfolio title
    method: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # outside any section
    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    strategies: list[str] = field(default_factory=list)  # as written
    newline: str = NEWLINE
    skeleton: tuple[str, ...] = ()

    @property
    def fitness_text(self) -> str:
        if self.kind == "summary":
            return self.sections[OVERALL_SECTION]["Fitness"]
        return self.fields["Fitness"]

    @property
    def fitness(self) -> float:
        return float(self.fitness_text)

    @property
    def metrics(self) -> dict[str, float]:
        """The `Performance Metrics` section as numbers (best_portfolio files)."""
        return {k: float(v) for k, v in self.sections.get(METRICS_SECTION, {}).items()}


def _newline_of(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def parse_text(text: str, source: str = "<text>") -> LegacyText:
    """Parse a best_portfolio or summary file; ValueError names the line that does not fit."""
    lines = text.splitlines()
    if not lines:
        raise ValueError(f"{source}: empty, not a legacy report")
    head = _BEST_HEAD.match(lines[0])
    if head is not None:
        doc = LegacyText("best_portfolio", int(head["size"]), head["method"])
        skeleton = ["title:Best Portfolio (Size #) - Method: #"]
    elif lines[0] == SUMMARY_TITLE:
        doc = LegacyText("summary")
        skeleton = [f"title:{SUMMARY_TITLE}"]
    else:
        raise ValueError(f"{source}, line 1: {lines[0]!r} is not a legacy report title")
    doc.newline = _newline_of(text)
    section: str | None = None
    for lineno, line in enumerate(lines[1:], start=2):
        if line == "":
            section = None
            skeleton.append("blank")
        elif _RULE.match(line):
            skeleton.append("rule")
        elif section == STRATEGIES_SECTION and (m := _ITEM.match(line)):
            if int(m["i"]) != len(doc.strategies) + 1:
                raise ValueError(f"{source}, line {lineno}: item {m['i']} out of sequence")
            doc.strategies.append(m["name"])
            if skeleton[-1] != "items":
                skeleton.append("items")
        elif (m := _SECTION.match(line)) is not None:
            section = m["name"]
            doc.sections.setdefault(section, {})
            skeleton.append(f"section:{section}")
        elif section is not None and (m := _BULLET.match(line)):
            doc.sections[section][m["key"]] = m["value"]
            skeleton.append(f"bullet:{m['key']}")
        elif (m := _FIELD.match(line)) is not None:
            target = doc.sections[section] if section is not None else doc.fields
            target[m["key"]] = m["value"]
            skeleton.append(f"field:{m['key']}")
        else:
            raise ValueError(f"{source}, line {lineno}: {line!r} fits no line of the layout")
    doc.skeleton = tuple(skeleton)
    return doc


def read_text(path: str | Path) -> LegacyText:
    """Parse a legacy-layout file (the legacy's own or ours)."""
    raw = Path(path).read_bytes()
    return parse_text(raw.decode("utf-8", errors="replace"), str(path))


def as_record(doc: LegacyText) -> dict[str, Any]:
    """The plain fields readers want: size, method, fitness, metrics, strategies (as written)."""
    return {
        "size": doc.size,
        "method": doc.method,
        "fitness": doc.fitness,
        "fitness_text": doc.fitness_text,
        "metrics": doc.metrics,
        "strategies": list(doc.strategies),
    }
