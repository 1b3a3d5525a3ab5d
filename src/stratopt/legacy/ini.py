"""The legacy's INI configuration turned into a stratopt config (`stratopt config from-ini`).

Every key of the INI is accounted for: mapped to a config key (with the
legacy's own parsing: its booleans, its clamps and fallbacks), or reported as
not supported with the reason. Keys the legacy reads but the INI leaves out
get the legacy's default, and are reported too, so that the config runs what
the legacy would have run. Nothing is dropped silently. docs/legacy.md has
the table.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratopt.errors import InputError

#: The legacy's algorithm switches (section ALGORITHMS) -> stratopt's plugin names.
ALGORITHM_KEYS = {
    "use_genetic_algorithm": "ga",
    "use_particle_swarm": "pso",
    "use_simulated_annealing": "sa",
    "use_differential_evolution": "de",
    "use_ant_colony": "aco",
    "use_hill_climbing": "hc",
    "use_bayesian_optimization": "bo",
}
METRICS = ("roi", "less max dd", "ratio", "win percentage", "profit factor", "expectancy")
CHECKPOINTS = (
    "stratopt always checkpoints every finished size (results/<dataset>/runs/<algorithm>/) "
    "and resumes from a checkpoint made with the same input and settings; delete runs/ "
    "to search again from scratch"
)
UNSUPPORTED_SECTIONS = {
    "zone_specific_optimization": (
        "the legacy's extra search of each zone on its own; stratopt searches the "
        "zone-weighted series only (zone.enabled; docs/zones.md)"
    ),
    "zone_weights": (
        "weights by zone name; stratopt takes them in sorted zone order as zone.weights "
        "(write them there by hand)"
    ),
    "file_ratios": (
        "per-file target counts for balanced mode; stratopt's balanced mode wants n / "
        "(number of files) strategies from each file"
    ),
}


@dataclass
class KeyFate:
    """What became of one INI key (or of a key the legacy reads that the INI lacks)."""

    section: str
    key: str
    value: str | None  # as written; None: absent from the INI
    #: "mapped"; "default" (absent: the legacy's default is set); "unused" (the legacy
    #: itself ignores it with these settings); "not supported" (the note says why)
    status: str
    target: str | None = None  # the config key it sets
    note: str = ""

    def line(self) -> str:
        where = f"[{self.section}] {self.key}"
        shown = "(absent)" if self.value is None else f"= {self.value}"
        to = f" -> {self.target}" if self.target else ""
        note = f": {self.note}" if self.note else ""
        return f"{where} {shown}: {self.status}{to}{note}"


@dataclass
class Conversion:
    config: dict[str, Any] = field(default_factory=dict)
    fates: list[KeyFate] = field(default_factory=list)


def legacy_bool(text: str) -> bool:
    """The legacy's booleans: "true", "1" or "yes" (any case) is true, anything else false."""
    return str(text).strip().lower() in ("true", "1", "yes")


def _set(config: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = config
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value


class _Reader:
    """Walks the INI, recording the fate of every key it touches."""

    def __init__(self, parser: configparser.ConfigParser, source: Path) -> None:
        self.parser = parser
        self.source = source
        self.out = Conversion()
        self.seen: set[tuple[str, str]] = set()
        self.sections = {s.lower(): s for s in parser.sections()}

    def raw(self, section: str, key: str) -> str | None:
        real = self.sections.get(section.lower())
        if real is None or not self.parser.has_option(real, key):
            return None
        self.seen.add((real, key))
        return self.parser.get(real, key).strip()

    def fate(self, section: str, key: str, value: str | None, status: str, **kw: Any) -> None:
        self.out.fates.append(KeyFate(section, key, value, status, **kw))

    def number(
        self,
        section: str,
        key: str,
        target: str,
        default: Any,
        convert: Callable[[str], Any],
        clamp: Callable[[Any], Any] = lambda v: v,
        note: str = "",
    ) -> Any:
        """A number the legacy reads with `convert` (its default on a bad value), clamped."""
        text = self.raw(section, key)
        if text is None:
            value = clamp(default)
            self.fate(section, key, None, "default", target=target, note=f"the legacy's {value!r}")
        else:
            try:
                value = clamp(convert(text))
            except ValueError:
                value = clamp(default)
                note = f"not a number: the legacy falls back to {value!r}"
            self.fate(section, key, text, "mapped", target=target, note=note)
        _set(self.out.config, target, value)
        return value

    def flag(
        self, section: str, key: str, target: str | None, default: bool, note: str = ""
    ) -> bool:
        text = self.raw(section, key)
        value = default if text is None else legacy_bool(text)
        status = "default" if text is None else "mapped"
        if text is None:
            note = f"the legacy's {default}" + (f"; {note}" if note else "")
        self.fate(section, key, text, status, target=target, note=note)
        if target:
            _set(self.out.config, target, value)
        return value


def _dataset_name(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.-")
    return name or "legacy"


def convert_ini(path: str | Path, source: str | None = None) -> Conversion:
    """The stratopt config for a legacy INI, and the fate of each key.

    source: the input to use instead of the INI's data folder (the INI's paths
    are the legacy machine's; a relative one is taken relative to the INI).
    """
    path = Path(path)
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path, encoding="utf-8"):
            raise InputError(path, "cannot read the INI file")
    except configparser.Error as exc:
        raise InputError(path, f"not an INI file the legacy could read: {exc}") from exc
    r = _Reader(parser, path)
    cfg = r.out.config
    cfg["dataset"] = _dataset_name(path.stem)
    cfg["optimize"] = {"preset": "legacy", "seed": 42}

    _general(r)
    zone = _optimization(r)
    _portfolio(r)
    _algorithms(r)
    _paths(r, zone, source)
    for low, reason in UNSUPPORTED_SECTIONS.items():
        real = r.sections.get(low)
        if real is None:
            continue
        for key in parser.options(real):
            r.seen.add((real, key))
            r.fate(real, key, parser.get(real, key).strip(), "not supported", note=reason)
    for real in parser.sections():
        for key in parser.options(real):
            if (real, key) not in r.seen:
                r.seen.add((real, key))
                r.fate(
                    real,
                    key,
                    parser.get(real, key).strip(),
                    "not supported",
                    note="the legacy optimizer reads no such key, and stratopt has no equivalent",
                )
    return r.out


def _general(r: _Reader) -> None:
    for key in ("use_checkpoint", "checkpoint_per_size", "preserve_checkpoints"):
        text = r.raw("GENERAL", key)
        if text is not None:
            r.fate("GENERAL", key, text, "not supported", note=CHECKPOINTS)
    limit = r.raw("GENERAL", "strat_limit")
    if limit is None or limit.lower() == "all":
        r.fate(
            "GENERAL",
            "strat_limit",
            limit,
            "mapped" if limit else "default",
            note="every strategy, as stratopt always does",
        )
    else:
        r.fate(
            "GENERAL",
            "strat_limit",
            limit,
            "not supported",
            note="stratopt has no strategy limit: give it a file with the first N strategies",
        )
    r.number(
        "GENERAL",
        "ga_generations",
        "optimize.generations",
        50,
        int,
        lambda v: max(10, v),
    )
    text = r.raw("GENERAL", "metric")
    metric = (text or "ratio").lower()
    note = "" if text is not None else "the legacy's 'ratio'"
    if metric not in METRICS:
        note, metric = "unknown: the legacy warns and uses 'ratio'", "ratio"
    r.fate("GENERAL", "metric", text, "mapped" if text else "default", target="metric", note=note)
    r.out.config["metric"] = metric


def _optimization(r: _Reader) -> bool:
    zone = r.flag("OPTIMIZATION", "zone_optimization_enabled", "zone.enabled", True)
    ulta_text = r.raw("OPTIMIZATION", "apply_ulta_logic")
    ulta = True if ulta_text is None else legacy_bool(ulta_text)
    if zone and ulta:
        r.fate(
            "OPTIMIZATION",
            "apply_ulta_logic",
            ulta_text,
            "mapped" if ulta_text is not None else "default",
            target="ulta",
            note="false: the legacy's zone mode never inverts (stratopt would, on the weighted "
            "series; set ulta: true for that)",
        )
        ulta = False
    else:
        status = "mapped" if ulta_text is not None else "default"
        r.fate("OPTIMIZATION", "apply_ulta_logic", ulta_text, status, target="ulta")
    r.out.config["ulta"] = ulta
    r.flag("OPTIMIZATION", "balanced_mode", "balanced", False)
    r.number("OPTIMIZATION", "penalty_factor", "penalty_factor", 1.0, float, lambda v: max(0.0, v))
    r.number("OPTIMIZATION", "drawdown_threshold", "drawdown_threshold", 0.0, float)
    text = r.raw("OPTIMIZATION", "zone_weights")
    if text is None:
        r.fate(
            "OPTIMIZATION",
            "zone_weights",
            None,
            "default",
            target="zone.weights",
            note="uniform, as the legacy",
        )
        weights: list[float] = []
    else:
        try:
            weights = [float(w) for w in text.split(",") if w.strip()]
            note = "" if zone else "used only in zone mode"
        except ValueError:
            weights, note = [], "not numbers: uniform weights, as the legacy falls back to"
        r.fate("OPTIMIZATION", "zone_weights", text, "mapped", target="zone.weights", note=note)
    r.out.config.setdefault("zone", {})["weights"] = weights
    monte = r.raw("OPTIMIZATION", "run_monte_carlo")
    if monte is not None:
        r.fate(
            "OPTIMIZATION",
            "run_monte_carlo",
            monte,
            "not supported",
            note="the legacy optimizer never reads it, and stratopt has no Monte Carlo stage",
        )
    return zone


def _portfolio(r: _Reader) -> None:
    r.number("PORTFOLIO", "min_size", "optimize.min_size", 3, int, lambda v: max(1, v))
    r.number("PORTFOLIO", "max_size", "optimize.max_size", 5, int, lambda v: max(1, v))
    opt = r.out.config["optimize"]
    if opt["max_size"] < opt["min_size"]:
        opt["max_size"] = opt["min_size"]
        r.out.fates[-1].note = "below min_size: raised to it (stratopt needs min <= max)"
    r.number("PORTFOLIO", "population_size", "optimize.population", 30, int, lambda v: max(10, v))
    r.number(
        "PORTFOLIO",
        "mutation_rate",
        "optimize.mutation_rate",
        0.1,
        float,
        lambda v: max(0.01, min(0.5, v)),
    )


def _algorithms(r: _Reader) -> None:
    chosen = []
    for key, name in ALGORITHM_KEYS.items():
        if r.flag("ALGORITHMS", key, None, True, note=f"algorithm {name}"):
            chosen.append(name)
        r.out.fates[-1].target = "optimize.algorithms"
    if not chosen:
        chosen = ["ga"]
        r.out.fates[-1].note += "; none enabled: the legacy runs GA alone"
    r.out.config["optimize"]["algorithms"] = chosen


def _paths(r: _Reader, zone: bool, source: str | None) -> None:
    used = "consolidated_dir" if zone else "data_folder"
    for key in ("data_folder", "consolidated_dir"):
        text = r.raw("PATHS", key)
        if key != used:
            if text is not None:
                mode = "in" if key == "consolidated_dir" else "outside"
                r.fate(
                    "PATHS", key, text, "unused", note=f"the legacy reads it only {mode} zone mode"
                )
            continue
        if source is not None:
            r.fate(
                "PATHS",
                key,
                text,
                "mapped",
                target="input.source",
                note=f"replaced by --source {source}",
            )
            value = source
        elif text is None:
            raise InputError(
                r.source, f"[PATHS] {key} is missing: the input is unknown (give --source)"
            )
        else:
            folder = Path(text)
            value = str(folder if folder.is_absolute() else (r.source.parent / folder))
            r.fate(
                "PATHS",
                key,
                text,
                "mapped",
                target="input.source",
                note="relative to the INI's folder" if not folder.is_absolute() else "",
            )
        r.out.config["input"] = {"source": value}


def config_yaml(conversion: Conversion, ini: str | Path) -> str:
    """The config as YAML, with the fate of every INI key as comments above it."""
    import yaml

    lines = [
        f"# stratopt config from the legacy INI {ini} (stratopt config from-ini).",
        "# What became of every key of the INI (docs/legacy.md):",
        *(f"#   {f.line()}" for f in conversion.fates),
        "# The legacy's random streams are unseeded: the results here follow optimize.seed.",
    ]
    return "\n".join(lines) + "\n" + yaml.safe_dump(conversion.config, sort_keys=False)
