"""The run's answer in a few lines, for the terminal: what to hold, how sure, where to look.

Read from what select and validate wrote (summary.json, validation.json) and
the files beside them: the recommended portfolio (size, algorithm, its
guarded fitness, in sample), the out-of-sample verdict when validation ran,
and the paths of the report, the portfolio files and the summary. The
workflow prints it when a run succeeds (the Snakefile's onsuccess);
`stratopt answer RESULTS_DIR` prints it afterwards. Standard library only:
the Snakefile imports it.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from stratopt import contracts as C

WIDTH = 22  # the label column
TEXT_WIDTH = 110  # a line, at most (but a path)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _row(label: str, text: str) -> str:
    return f"  {label:<{WIDTH}} {text}"


def _score(value: Any) -> str:
    """A fitness or ratio: two decimals, three below 1 (as the report's `score`)."""
    if not isinstance(value, (int, float)):
        return "n/a"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _rupees(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "n/a"
    sign = "-" if value < 0 else ""
    return f"{sign}₹{abs(value):,.0f}"


def _newer(a: Path, b: Path) -> bool:
    """Whether `a` was written after `b` (False when either is missing)."""
    try:
        return a.stat().st_mtime > b.stat().st_mtime
    except OSError:
        return False


def _portfolio_file(results: Path, summary: Mapping[str, Any], size: int) -> Path | None:
    """The legacy-layout file listing the chosen size's strategies."""
    default = C.LEGACY_DIR.path(results)
    folder = Path(str(summary.get("legacy_outputs") or default))
    if not folder.is_absolute() and not folder.exists():
        folder = default
    # as select writes it, else as the legacy does (a run stamp after the size)
    found = sorted(folder.glob(C.fill(C.LEGACY_BEST, size=size))) or sorted(
        folder.glob(C.fill(C.LEGACY_BEST, size=f"{size}_*"))
    )
    return found[0] if found else None


def _wrapped(label: str, text: str) -> list[str]:
    """A long sentence (the verdict) over several lines of the value column."""
    width = max(TEXT_WIDTH - WIDTH - 3, 40)
    parts = textwrap.wrap(text, width=width) or [""]
    return [_row(label, parts[0])] + [_row("", part) for part in parts[1:]]


def _out_of_sample(validation: Mapping[str, Any] | None) -> list[str]:
    if validation is None:
        return _wrapped(
            "out of sample",
            "not validated (validation.enabled: false): every figure is in sample, hindsight",
        )
    pooled = validation.get("pooled") or {}
    folds = [f for f in validation.get("folds") or [] if isinstance(f, Mapping)]
    tested = (
        f"{folds[0]['test']['first']} .. {folds[-1]['test']['last']}"
        if folds and "test" in folds[0] and "test" in folds[-1]
        else "?"
    )
    sessions = (validation.get("sessions") or {}).get("out_of_sample", "?")
    scheme = (validation.get("settings") or {}).get("scheme", "?")
    return [
        *_wrapped("out of sample", str(validation.get("verdict") or "no verdict")),
        *_wrapped(
            "",
            f"ROI {_rupees(pooled.get('roi'))} on {sessions} test sessions ({tested}, "
            f"{scheme}, {len(folds)} folds); guarded ratio {_score(pooled.get('guarded_ratio'))}; "
            f"percentile {pooled.get('percentile', 'n/a')} against random portfolios",
        ),
    ]


def answer_lines(results_dir: str | Path) -> list[str]:
    """The answer of the run under `results_dir`, line by line."""
    results = Path(results_dir)
    summary_path = C.SUMMARY.path(results)
    summary = _read(summary_path)
    best = (summary or {}).get("best_overall")
    if not isinstance(best, Mapping) or "size" not in best:
        return [
            f"No answer yet in {results}: the select stage has not run (no summary.json); "
            "run the whole workflow (snakemake, or make run)."
        ]
    size = int(best["size"])
    head = f"The answer ({results}):"
    if _newer(C.INGEST.path(results), summary_path):
        head += " FROM AN EARLIER RUN: the data was read again since; run the whole workflow"
    flags = best.get("flags") or []
    chosen = (summary or {}).get("best_overall_rule") or {}
    validated = chosen.get("rule") == "out-of-sample"  # select chose by validation.json
    lines = [
        head,
        _row(
            "recommended portfolio",
            f"{size} strategies, found by {str(best.get('algorithm', '?')).upper()}; guarded "
            f"fitness {_score(best.get('guarded_fitness'))} (in sample: hindsight)",
        ),
        *_out_of_sample(_read(C.VALIDATION.path(results)) if validated else None),
        _row("flags", "; ".join(map(str, flags)) if flags else "none"),
    ]
    return lines + _paths(results, summary or {}, size, validated)


def _paths(results: Path, summary: Mapping[str, Any], size: int, validated: bool) -> list[str]:
    """Where to look: the report first, then the portfolio's files and the summary."""
    lines = []
    report = C.REPORT.path(results)
    if report.exists():
        stale = _newer(C.SUMMARY.path(results), report)
        lines.append(
            _row("open first", f"{report}{' (older than the answer: rerun it)' if stale else ''}")
        )
    portfolio = _portfolio_file(results, summary, size)
    if portfolio is not None:
        lines.append(_row("its strategies", str(portfolio)))
    lines.append(_row("every size", str(C.PORTFOLIOS.path(results))))
    also = f"  (out of sample: {C.VALIDATION.path(results)})" if validated else ""
    lines.append(_row("summary", f"{C.SUMMARY.path(results)}{also}"))
    return lines


def format_answer(results_dir: str | Path) -> str:
    return "\n".join(answer_lines(results_dir))


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write `text` and a newline; a terminal that cannot show ₹ gets a replacement."""
    out = stream or sys.stdout
    encoding = getattr(out, "encoding", None) or "utf-8"
    out.write(text.encode(encoding, errors="replace").decode(encoding) + "\n")
    out.flush()
