"""What a configuration means, checked before any stage runs.

The JSON schema (workflow/schemas/config.schema.yaml) checks types, ranges
and unknown keys; these checks add what it cannot say: that min_size <=
max_size, that the algorithms exist (those named in optimize.params too),
that the dates are dates in order, and,
once the data is known, that the sizes fit the strategies and the date range
selects enough sessions. The workflow calls check_config when it parses the
Snakefile (so a bad value fails before any job starts), check_against_ingest
with the last ingest's report when that report is current, and the ingest
stage calls check_against_data with what it has just read.

Light on purpose: the standard library only, as the Snakefile imports it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.errors import ConfigError

#: The algorithms this package ships (used when its entry points are not installed,
#: e.g. a Snakemake process outside the package's environment).
BUILTIN_ALGORITHMS = ("ga", "pso", "sa", "de", "aco", "hc", "bo", "rs")
#: File types ingest reads (as stratopt.data.ingest): their suffix is not part of a run's name.
DATA_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
#: Fewer sessions leave no drawdown and no correlation (as stratopt.data.ingest.MIN_SESSIONS).
MIN_SESSIONS = 2


def _section(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = config.get(key) or {}
    return value if isinstance(value, Mapping) else {}


def known_algorithms() -> set[str]:
    """Installed algorithm plugins (entry points), and the built-in names."""
    names = set(BUILTIN_ALGORITHMS)
    try:
        from stratopt.registry import available

        names |= set(available("algorithms"))
    except Exception:  # noqa: BLE001 - no metadata outside the package's env: built-ins only
        pass
    return names


def parse_date(value: Any, key: str) -> dt.date | None:
    """A config date (YAML gives a date object or a string), None for an open bound."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{key} = {value!r} is not a date (expected YYYY-MM-DD)") from None


def dates_as_text(config: dict[str, Any]) -> None:
    """date_range values YAML parsed as dates, back to YYYY-MM-DD text (in place)."""
    rng = config.get("date_range")
    if isinstance(rng, dict):
        for key, value in rng.items():
            if isinstance(value, dt.date):
                rng[key] = value.isoformat()[:10]


def date_bounds(config: Mapping[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    rng = _section(config, "date_range")
    start = parse_date(rng.get("start"), "date_range.start")
    end = parse_date(rng.get("end"), "date_range.end")
    if start is not None and end is not None and start > end:
        raise ConfigError(f"date_range.start {start} is after date_range.end {end}")
    return start, end


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Every problem of meaning in `config` that needs no data (empty when it is fine)."""
    problems: list[str] = []
    opt = _section(config, "optimize")
    lo, hi = opt.get("min_size"), opt.get("max_size")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        problems.append(f"optimize.min_size {lo} is larger than optimize.max_size {hi}")
    for key in ("min_size", "max_size"):
        value = opt.get(key)
        if isinstance(value, int) and value < 1:
            problems.append(f"optimize.{key} must be >= 1 (got {value})")
    seed = opt.get("seed")
    if isinstance(seed, int) and seed < 0:
        problems.append(f"optimize.seed must be >= 0 (got {seed})")
    algorithms = opt.get("algorithms")
    if algorithms is not None:
        problems += _algorithm_problems(algorithms)
    params = opt.get("params")
    if isinstance(params, Mapping):
        problems += _params_problems(params)
    try:
        date_bounds(config)
    except ConfigError as exc:
        problems.append(str(exc))
    return problems


def _algorithm_problems(algorithms: Any) -> list[str]:
    if not isinstance(algorithms, list) or not algorithms:
        return ["optimize.algorithms must list at least one algorithm"]
    problems = []
    known = known_algorithms()
    unknown = [a for a in algorithms if str(a).lower() not in known]
    if unknown:
        problems.append(
            f"optimize.algorithms: unknown {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    lowered = [str(a).lower() for a in algorithms]
    repeated = sorted({a for a in lowered if lowered.count(a) > 1})
    if repeated:
        problems.append(f"optimize.algorithms lists {', '.join(repeated)} more than once")
    return problems


def _params_problems(params: Mapping[str, Any]) -> list[str]:
    """optimize.params.<name> must name an algorithm (a plugin's own settings are checked
    by the plugin when the optimize stage loads it)."""
    known = known_algorithms()
    unknown = [name for name in params if str(name).lower() not in known]
    if not unknown:
        return []
    return [
        f"optimize.params: no algorithm named {', '.join(map(repr, unknown))}; "
        f"known: {', '.join(sorted(known))}"
    ]


def check_config(config: Mapping[str, Any]) -> None:
    """Raise ConfigError listing every problem of meaning (before any stage runs)."""
    problems = config_problems(config)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


def data_problems(
    config: Mapping[str, Any], n_strategies: int, dates: Iterable[Any], source: str
) -> list[str]:
    """What the configuration asks of the data that the data cannot give."""
    problems: list[str] = []
    opt = _section(config, "optimize")
    hi = opt.get("max_size")
    if isinstance(hi, int) and hi > n_strategies:
        problems.append(
            f"optimize.max_size {hi} is larger than the {n_strategies} strategies of {source}"
        )
    try:
        start, end = date_bounds(config)
    except ConfigError as exc:
        return [*problems, str(exc)]
    days = [parse_date(str(d)[:10], "date") for d in dates]
    chosen = [
        d
        for d in days
        if d is not None and (start is None or d >= start) and (end is None or d <= end)
    ]
    if (start is not None or end is not None) and len(chosen) < MIN_SESSIONS:
        cover = f"{days[0]} .. {days[-1]}" if days else "no dates"
        problems.append(
            f"date_range {start or 'open'} .. {end or 'open'} selects {len(chosen)} of the "
            f"{len(days)} sessions of {source} (which cover {cover}); at least "
            f"{MIN_SESSIONS} are needed"
        )
    return problems


def check_against_data(
    config: Mapping[str, Any], n_strategies: int, dates: Iterable[Any], source: str
) -> None:
    problems = data_problems(config, n_strategies, dates, source)
    if problems:
        raise ConfigError(
            "the configuration does not fit the data:\n  - " + "\n  - ".join(problems)
        )


def current_ingest(report_path: str | Path, source: str | Path) -> dict[str, Any] | None:
    """The last ingest's report (ingest.json) when it is current, else None.

    Current means newer than the source (as Snakemake judges it): a changed
    source will be ingested again, and its report is not yet known.
    """
    report = Path(report_path)
    src = Path(source)
    try:
        if not src.exists() or os.path.getmtime(report) < _newest_mtime(src):
            return None
        return contracts.INGEST.read_json_at(report)
    except (OSError, contracts.ContractError):
        return None  # ingest will read the source again, and check then


def check_against_ingest(
    config: Mapping[str, Any], report_path: str | Path, source: str | Path
) -> bool:
    """Check the config against the last ingest's report, when that report is current.

    A changed source will be ingested again and checked then. Returns whether it checked.
    """
    doc = current_ingest(report_path, source)
    if doc is None:
        return False
    check_against_data(config, doc["strategies"], list(doc["dates"]), str(source))
    return True


def dataset_name(config: Mapping[str, Any]) -> str:
    """The run's name, results/{dataset}/: the configured one, else derived from the input.

    `dataset: null` (the default) names a run on the generated twin `twin`
    and a run on a user's file or folder after it (`data/pnl.csv` -> `pnl`),
    so that `--config input='{source: data/pnl.csv}'` alone never writes
    one data set's results over another's.
    """
    given = config.get("dataset")
    if given:
        return str(given)
    source = str(_section(config, "input").get("source", "synthetic"))
    if source == "synthetic":
        return "twin"
    path = Path(source).resolve()
    stem = path.stem if path.suffix.lower() in DATA_SUFFIXES else path.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.-") or "input"


def _newest_mtime(path: Path) -> float:
    if not path.is_dir():
        return os.path.getmtime(path)
    times = [os.path.getmtime(path)] + [os.path.getmtime(p) for p in path.iterdir()]
    return max(times)
