"""Named benchmark workloads: config/workloads/NAME.yaml.

A workload says which input to use, the pipeline configuration both sides
run (the keys of config/config.yaml; missing keys take the defaults of
workflow/schemas/config.schema.yaml, as in a Snakemake run), and how to run
the baseline (the built-in reference engine or an external legacy command)
and the tuned pipeline. Only stdlib and PyYAML here: the benchmark's parent
process stays small (its peak RSS is inherited by every child it starts).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stratopt import contracts
from stratopt.errors import ConfigError

REPO = Path(__file__).resolve().parents[4]
WORKLOAD_DIR = Path("config") / "workloads"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
BASELINE_KINDS = ("reference", "external")
#: The users' targets (issue 9), printed against the measured figures.
DEFAULT_TARGETS = {
    "strategies_per_s": 400.0,
    "load_s": 5.0,
    "total_s": 60.0,
    "stage_peak_mb": 500.0,
}


@dataclass(frozen=True)
class External:
    """The user's own legacy command: argv with {input}, {work}, {workload_dir} filled in."""

    command: list[str]
    cwd: str | None = None
    #: optional outputs of the legacy run, for the equivalence checks (relative to cwd/work)
    strategy_metrics: str | None = None
    portfolios_dir: str | None = None


@dataclass(frozen=True)
class Workload:
    name: str
    path: Path
    description: str
    input: dict[str, Any]
    config: dict[str, Any]
    baseline_kind: str = "reference"
    baseline_repeats: int = 3
    baseline_sizes: list[int] | None = None  # None: every size of the workload
    external: External | None = None
    tuned_repeats: int = 3
    targets: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))

    @property
    def sizes(self) -> list[int]:
        opt = self.config["optimize"]
        return list(range(int(opt["min_size"]), int(opt["max_size"]) + 1))

    @property
    def algorithms(self) -> list[str]:
        return [str(a) for a in self.config["optimize"]["algorithms"]]

    def baseline_search_sizes(self) -> list[int]:
        """The sizes the baseline searches (a subset when it is too slow to run whole)."""
        if self.baseline_sizes is None:
            return self.sizes
        return [n for n in self.sizes if n in set(self.baseline_sizes)]


def schema_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """Every `default:` of a JSON schema's properties, nested objects included."""
    out: dict[str, Any] = {}
    for key, spec in (schema.get("properties") or {}).items():
        if spec.get("type") == "object" and "properties" in spec:
            out[key] = schema_defaults(spec)
        elif "default" in spec:
            out[key] = copy.deepcopy(spec["default"])
    return out


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, recursively for nested mappings."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def pipeline_config(section: dict[str, Any] | None) -> dict[str, Any]:
    """The workload's config section with the schema's defaults filled in."""
    defaults: dict[str, Any] = {}
    if SCHEMA.exists():
        defaults = schema_defaults(yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
    return merge(defaults, section or {})


def find_workload(name: str) -> Path:
    """A path to a YAML file, or NAME in ./config/workloads or the checkout's config/workloads."""
    given = Path(name)
    if given.suffix in (".yaml", ".yml"):
        if not given.exists():
            raise ConfigError(f"workload file {given} does not exist")
        return given
    for folder in (Path.cwd() / WORKLOAD_DIR, REPO / WORKLOAD_DIR):
        candidate = folder / f"{name}.yaml"
        if candidate.exists():
            return candidate
    known = sorted(p.stem for p in (REPO / WORKLOAD_DIR).glob("*.yaml"))
    raise ConfigError(f"no workload named {name!r}; known: {', '.join(known) or 'none'}")


def _positive_int(value: Any, key: str, path: Path) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path}: {key} must be a positive integer, got {value!r}")
    return value


def _sizes(value: Any, path: Path) -> list[int] | None:
    if value in (None, "all"):
        return None
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{path}: baseline.sizes must be 'all' or a list of sizes, got {value!r}")
    return sorted({_positive_int(v, "baseline.sizes[]", path) for v in value})


def _external(spec: dict[str, Any], path: Path) -> External:
    command = spec.get("command")
    if isinstance(command, str):
        command = command.split()
    if not command or not all(isinstance(c, str) for c in command):
        raise ConfigError(f"{path}: an external baseline needs baseline.command (argv list)")
    outputs = spec.get("outputs") or {}
    return External(
        command=list(command),
        cwd=spec.get("cwd"),
        strategy_metrics=outputs.get("strategy_metrics"),
        portfolios_dir=outputs.get("portfolios_dir"),
    )


def load_workload(name: str) -> Workload:
    """Read and check one workload file (by name or path)."""
    path = find_workload(name)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a workload is a mapping")
    unknown = set(doc) - {"name", "description", "input", "config", "baseline", "tuned", "targets"}
    if unknown:
        raise ConfigError(f"{path}: unknown workload keys {sorted(unknown)}")
    # JSON-safe (YAML dates become strings): the config travels to the stages as JSON
    config = json.loads(json.dumps(pipeline_config(doc.get("config")), default=str))
    if "optimize" not in config:
        raise ConfigError(f"{path}: no optimize settings (and no schema defaults at {SCHEMA})")
    base = doc.get("baseline") or {}
    kind = base.get("kind", "reference")
    if kind not in BASELINE_KINDS:
        raise ConfigError(f"{path}: baseline.kind must be one of {BASELINE_KINDS}, got {kind!r}")
    tuned = doc.get("tuned") or {}
    inp = {"source": "synthetic", **(doc.get("input") or {})}
    workload = Workload(
        name=str(doc.get("name", path.stem)),
        path=path.resolve(),
        description=str(doc.get("description", "")).strip(),
        input=inp,
        config=config,
        baseline_kind=kind,
        baseline_repeats=_positive_int(base.get("repeats", 3), "baseline.repeats", path),
        baseline_sizes=_sizes(base.get("sizes"), path),
        external=_external(base, path) if kind == "external" else None,
        tuned_repeats=_positive_int(tuned.get("repeats", 3), "tuned.repeats", path),
        targets={**DEFAULT_TARGETS, **(doc.get("targets") or {})},
    )
    if kind == "reference" and not workload.baseline_search_sizes():
        raise ConfigError(f"{path}: baseline.sizes selects none of the sizes {workload.sizes}")
    return workload


def twin_csv(inp: dict[str, Any], config: dict[str, Any]) -> Path:
    """Where the pipeline caches the twin (workflow/rules/common.smk: source_path)."""
    cfg = config.get("input", {})
    seed = int(inp.get("synth_seed", cfg.get("synth_seed", 20250726)))
    n = int(inp.get("synth_strategies", cfg.get("synth_strategies", 25544)))
    return Path(contracts.fill(contracts.TWIN_CSV, seed=seed, n=n))
