"""Each rule's `params:`: exactly the config values its stage reads.

Snakemake reruns a job when one of its params changes, so every value a stage
reads from the configuration reaches it here and nowhere else: changing a key
reruns exactly the stages that read it (and what depends on their outputs),
and nothing more. The workflow (workflow/rules/*.smk) and anything that calls
a stage function directly (tests, benchmarks) build the params with these
functions, from the validated config (schema defaults filled in).

Left out on purpose: the profiling switch (`profiling.*` is read from the
config by stratopt.runtime.rule, never a param: switching it on must not rerun a
stage), `optimize.workers` (the job's threads; the results do not depend on
it), `optimize.pool` (threads or processes: the same results), `optimize.algorithms`
(the optimize job's outputs, which name them, and select's inputs),
`correlation.enabled` (the targets) and the `optimize.params` of algorithms
that do not run. Plain Python: the Snakefile imports it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Config = Mapping[str, Any]


def _section(config: Config, name: str) -> dict[str, Any]:
    return dict(config.get(name) or {})


def _date(value: Any) -> str | None:
    """A date bound as text (YAML may give a date object); None stays open."""
    return None if value in (None, "") else str(value)


def database(config: Config) -> dict[str, Any]:
    """Where the tables live: the engine and, for HeavyDB, its connection (no password)."""
    db = _section(config, "database")
    backend = str(db.get("backend", "duckdb"))
    out: dict[str, Any] = {"backend": backend}
    if backend == "heavydb":
        out["heavydb"] = dict(db.get("heavydb") or {})
    return out


def zone(config: Config) -> dict[str, Any]:
    """Zone mode; the weights only matter (and only rerun anything) when it is on."""
    z = _section(config, "zone")
    if not z.get("enabled", False):
        return {"enabled": False}
    return {"enabled": True, "weights": [float(w) for w in z.get("weights") or []]}


def prepare(config: Config) -> dict[str, Any]:
    """The prepare stage's settings, shaped like the config it reads."""
    rng = _section(config, "date_range")
    return {
        "date_range": {"start": _date(rng.get("start")), "end": _date(rng.get("end"))},
        "ulta": bool(config.get("ulta", True)),
        "database": {"compute": str(_section(config, "database").get("compute", "auto"))},
        "zone": zone(config),
    }


def correlation(config: Config) -> dict[str, Any]:
    """Everything a correlation shard computes with (`enabled` picks the targets only;
    `threads` changes how fast, not what: a change reruns nothing)."""
    section = _section(config, "correlation")
    section.pop("enabled", None)
    section.pop("threads", None)
    return section


def _own_settings(opt: Mapping[str, Any], algorithms: Any) -> dict[str, Any]:
    """optimize.params of the algorithms that run: another algorithm's settings rerun nothing."""
    wanted = {str(a).lower() for a in algorithms or []}
    return {k: v for k, v in dict(opt.get("params") or {}).items() if str(k).lower() in wanted}


def search(config: Config) -> dict[str, Any]:
    """The optimize section's settings that decide a search result (of the algorithms'
    own settings, those of the algorithms it runs)."""
    opt = _section(config, "optimize")
    out = {k: v for k, v in opt.items() if k not in ("workers", "algorithms", "pool")}
    if "params" in opt:
        out["params"] = _own_settings(opt, opt.get("algorithms"))
    return out


def objective(config: Config) -> dict[str, Any]:
    """The top-level keys of the fitness the searches maximise."""
    keys = ("metric", "drawdown_threshold", "drawdown_floor", "balanced", "penalty_factor")
    return {k: config[k] for k in keys}


def choice(config: Config) -> dict[str, Any]:
    """What select flags and how it recommends a size without validation (guarded metric)."""
    keys = (
        "flag_drawdown_below",
        "drawdown_floor",
        "drawdown_threshold",
        "balanced",
        "penalty_factor",
    )
    return {k: config[k] for k in keys}


def validate(config: Config) -> dict[str, Any]:
    """Every setting that decides a fold's pick or its score, shaped like the config."""
    keys = (
        "validation",
        "metric",
        "drawdown_threshold",
        "drawdown_floor",
        "balanced",
        "penalty_factor",
        "ulta",
        "date_range",
        "flag_drawdown_below",
    )
    shown = {k: copy.deepcopy(config[k]) for k in keys if k in config}
    opt = _section(config, "optimize")
    shown["optimize"] = {k: v for k, v in opt.items() if k not in ("workers", "pool")}
    if "params" in opt:  # the settings of the algorithms the folds run
        runs = _section(config, "validation").get("algorithms") or opt.get("algorithms")
        shown["optimize"]["params"] = _own_settings(opt, runs)
    return shown


def optimize_config(search_params: Mapping[str, Any], objective_params: Mapping[str, Any]) -> dict:
    """The config shape optimize.OptimizeSettings.from_config reads, from the two params."""
    return {"optimize": dict(search_params), **dict(objective_params)}


def report(config: Config) -> dict[str, Any]:
    """The settings that applied to the run: what the report shows, and what reruns it.

    Left out, as no stage of this run read them: the profiling switch, the
    twin's settings for a file of the user's, HeavyDB's connection under
    DuckDB, zone weights, correlation and validation settings while those are
    off (`enabled: false` stays: it explains the missing sections), the bench
    rule's workload (not part of the run) and an unset hpc.gpu_probe.
    """
    shown = copy.deepcopy(dict(config))
    for key in ("profiling", "bench"):
        shown.pop(key, None)
    source = _section(shown, "input").get("source", "synthetic")
    if source != "synthetic":
        shown["input"] = {"source": source}
    db = _section(shown, "database")
    if db.get("backend", "duckdb") != "heavydb" and db.pop("heavydb", None) is not None:
        shown["database"] = db
    for key in ("zone", "correlation", "validation"):
        if key in shown and not _section(shown, key).get("enabled", key != "zone"):
            shown[key] = {"enabled": False}
    if not _section(shown, "hpc").get("gpu_probe", False):
        shown.pop("hpc", None)
    return _sorted(shown)


def bench(config: Config) -> dict[str, Any]:
    return {"workload": str(_section(config, "bench").get("workload", "ci"))}


#: rule name -> its params; rules not listed read no configuration value.
RULES = {
    "load_db": lambda c: {"database": database(c)},
    "prepare": lambda c: {"database": database(c), "settings": prepare(c)},
    "store_results": lambda c: {"database": database(c)},
    "correlation_shard": lambda c: {"correlation": correlation(c)},
    "optimize": lambda c: {"search": search(c), "objective": objective(c)},
    "select": lambda c: {"choice": choice(c)},
    "validate": lambda c: {"config": validate(c)},
    "report": lambda c: {"config": report(c)},
    "bench": lambda c: {"workload": bench(c)["workload"]},
}


def for_rule(rule: str, config: Config) -> dict[str, Any]:
    """The params of `rule` (the workflow writes `params: **rule_params.for_rule(...)`).

    Their mappings come with their keys sorted, at every depth: Snakemake compares
    params by their repr, so otherwise the order in which the config files happen
    to write keys (a key set in a second --configfile comes before the schema's
    defaults) would rerun a stage whose settings did not change.
    """
    build = RULES.get(rule)
    return _sorted(build(config)) if build is not None else {}


def _sorted(value: Any) -> Any:
    """Mappings with their keys sorted, at every depth: the order in which config files
    name the keys (a file adding `zone:` moves it) then changes neither the params nor the page."""
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
