"""Write (or check) envs/<rule>.yaml: each rule's conda env lists what that rule imports.

What a rule imports is read from the code, not guessed: the third-party
modules imported anywhere in the static import closure of
stratopt.stages.<rule> (and of the rule bridge, stratopt.runtime.rule),
function-level imports included, plus the plugins the rule loads through
entry points (algorithms for optimize; the database engine for the database
rules). Versions come from constraints.txt, so the envs pin what CI tests.
Variants: `<rule>.gpu.yaml` adds CuPy for the rules with a CuPy backend,
`<rule>.heavydb.yaml` the HeavyDB client for the database rules;
workflow/rules/common.smk picks the variant from the config. Rules of one
workflow/rules/*.smk file that import the same share one env named after the
file (database, correlation), so that Snakemake builds it once.

    python scripts/dev/envs.py          # rewrite envs/
    python scripts/dev/envs.py --check  # exit 1 if envs/ is out of date (a test runs this)
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Mapping
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
ENVS = REPO / "envs"
#: Modules a rule reaches through entry points rather than imports.
PLUGINS = {
    "optimize": [
        f"stratopt.algorithms.{m.stem}" for m in (SRC / "stratopt/algorithms").glob("*.py")
    ],
    "load_db": ["stratopt.db.duckdb_backend"],
    "prepare": ["stratopt.db.duckdb_backend"],
    "store_results": ["stratopt.db.duckdb_backend"],
}
#: Every rule may run under py-spy (profiling.enabled / STRATOPT_PROFILE=1): an executable.
ALWAYS = ["py-spy"]
#: Distributions the closure finds only behind a backend switch: they go into the variants.
#: (cudf: HeavyDB's optional GPU read path, a RAPIDS install of its own, never pinned here.)
GPU = {"cupy", "cudf"}
CUPY = "cupy-cuda12x>=13"
VARIANTS = {
    "gpu": {"rules": ("optimize", "correlation_shard"), "add": [CUPY]},
    # thrift is pinned below 0.25 by hand: 0.25 breaks select_ipc (docs/dependencies.md)
    "heavydb": {
        "rules": ("load_db", "prepare", "store_results"),
        "modules": ["stratopt.db.heavydb_backend"],
        "pins": ["thrift"],
    },
}
#: Requirements no import shows: the GPU probe's whole purpose is CuPy; the side-by-side
#: benchmark runs every stage and Snakemake itself in child processes of its env.
RULE_EXTRA = {
    "gpu_probe": {"add": [CUPY]},
    "bench": {
        "pins": [
            "snakemake",
            "pandas",
            "matplotlib",
            "jinja2",
            "openpyxl",
            "duckdb",
            "numba",
            "scipy",
            "tqdm",
        ],
    },
}


def module_file(name: str) -> Path | None:
    base = SRC / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


@functools.cache
def imported(name: str) -> frozenset[str]:
    """Every module named by an import statement of `name`, at any depth of its code
    (cached: every rule's closure reads the same modules)."""
    path = module_file(name)
    found: set[str] = set()
    if path is None:
        return frozenset(found)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return frozenset(found)


def third_party(start: list[str]) -> set[str]:
    """Top-level third-party modules of the import closure of `start`."""
    seen: set[str] = set()
    todo = list(start)
    out: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in imported(name):
            top = dep.split(".")[0]
            if top == "stratopt":
                parts = dep.split(".")
                todo.extend(
                    ".".join(parts[:i])
                    for i in range(1, len(parts) + 1)
                    if module_file(".".join(parts[:i]))
                )
            elif top not in sys.stdlib_module_names and top != "__future__":
                out.add(top)
    return out


def pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    found = (re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line) for line in lines)
    return {m.group(1).lower().replace("_", "-"): m.group(0) for m in found if m}


@functools.cache
def module_distributions() -> Mapping[str, list[str]]:
    """Top-level module -> the distributions providing it (a scan of every installed one:
    0.7 s, so once)."""
    return packages_distributions()


def distributions(modules: set[str]) -> set[str]:
    table = module_distributions()
    names: set[str] = set()
    for module in modules:
        if module in GPU:
            continue  # only in the gpu variants
        for dist in table.get(module, [module]):
            names.add(dist.lower().replace("_", "-"))
    return names


def requirements(rule: str, variant: str | None = None) -> list[str]:
    start = [f"stratopt.stages.{rule}", "stratopt.runtime.rule", *PLUGINS.get(rule, [])]
    specs = [RULE_EXTRA.get(rule, {})] + ([VARIANTS[variant]] if variant else [])
    start += [m for spec in specs for m in spec.get("modules", [])]
    extra = [a for spec in specs for a in spec.get("add", [])]
    names = distributions(third_party(start)) | set(ALWAYS)
    names |= {p for spec in specs for p in spec.get("pins", [])}
    table = pins()
    missing = sorted(n for n in names if n not in table)
    if missing:
        raise SystemExit(f"{rule}: no pin in constraints.txt for {', '.join(missing)}")
    return sorted((table[n] for n in names), key=str.lower) + extra


def render(rule: str, variant: str | None, name: str, reqs: list[str] | None = None) -> str:
    what = f" ({variant} variant)" if variant else ""
    who = f"the `{rule}` rule" if name == rule else f"the rules of workflow/rules/{name}.smk"
    lines = [
        f"# Environment of {who}{what} (--sdm conda): what their stratopt.stages",
        "# modules import, no more. Generated by scripts/dev/envs.py from the code's imports and",
        "# pinned to constraints.txt (what CI tests); edit the code, then run the script.",
        "# The stratopt package itself comes from src/ beside scripts/ (docs/dependencies.md).",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        *(f"      - {req}" for req in (reqs if reqs is not None else requirements(rule, variant))),
    ]
    return "\n".join(lines) + "\n"


def rule_files() -> dict[str, str]:
    """Rule -> the stem of its workflow/rules/*.smk file."""
    found: dict[str, str] = {}
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for name in re.findall(r"^rule (\w+):", smk.read_text(encoding="utf-8"), re.M):
            found[name] = smk.stem
    return found


def env_names() -> dict[str, str]:
    """Rule -> env name: the .smk file's stem where all its rules import the same, else the rule.

    One file for identical needs lets Snakemake build that environment once.
    """
    rules = sorted(p.stem for p in (SRC / "stratopt/stages").glob("*.py") if p.stem != "__init__")
    smk = rule_files()
    by_file: dict[str, set[tuple[str, ...]]] = {}
    for rule in rules:
        by_file.setdefault(smk.get(rule, rule), set()).add(tuple(requirements(rule)))
    shared = {
        f for f, reqs in by_file.items() if len(reqs) == 1 and list(smk.values()).count(f) > 1
    }
    return {rule: smk[rule] if smk.get(rule) in shared else rule for rule in rules}


#: The chain job (workflow/rules/chain.smk) runs these stages in one process.
CHAINED = (
    "load_db",
    "prepare",
    "correlation_shard",
    "correlation_summary",
    "validate",
    "optimize",
    "select",
    "store_results",
    "report",
)


def chain_requirements() -> list[str]:
    """What the chain job imports: every chained stage's, and the chain itself."""
    start = ["stratopt.runtime.chain", *(f"stratopt.stages.{r}" for r in CHAINED)]
    start += [m for r in CHAINED for m in PLUGINS.get(r, [])]
    names = distributions(third_party(start)) | set(ALWAYS)
    table = pins()
    return sorted((table[n] for n in names), key=str.lower)


def wanted() -> dict[Path, str]:
    files: dict[Path, str] = {}
    files[ENVS / "chain.yaml"] = render("chain", None, "chain", chain_requirements())
    for rule, name in env_names().items():
        files[ENVS / f"{name}.yaml"] = render(rule, None, name)
        for variant, spec in VARIANTS.items():
            if rule in spec["rules"]:
                files[ENVS / f"{name}.{variant}.yaml"] = render(rule, variant, name)
    return files


def main(argv: list[str]) -> int:
    files = wanted()
    stale = sorted(set(ENVS.glob("*.yaml")) - set(files))
    changed = [
        p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    if "--check" in argv:
        for path in changed + stale:
            print(f"out of date: {path.relative_to(REPO)}")
        return 1 if changed or stale else 0
    for path in stale:
        path.unlink()
    for path in changed:
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
