"""The package's shape: no import cycles, small modules, every stage file named by the contracts.

Read from the source (the AST), so these checks cost well under a second.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from import_support import packages_imported
from stratopt import contracts

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = SRC / "stratopt"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The package module `name` names (a module, or the package an attribute lives in)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, at module level or inside a function."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges = graph.setdefault(module, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                    for a in node.names
                ]
            else:
                continue
            for target in targets:
                found = _resolve(target)
                if found and found != module:
                    edges.add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_even_through_imports_inside_functions() -> None:
    graph = import_graph()
    assert graph["stratopt.data.ingest"] >= {"stratopt.data.zone_ingest"}  # the graph is real
    assert cycles(graph) == []


def test_no_module_over_500_lines() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_contracts_import_nothing_heavy() -> None:
    """The Snakefile imports stratopt.contracts when it is parsed, in any rule's env."""
    heavy = ["numpy", "pandas", "pyarrow", "yaml", "duckdb", "matplotlib"]
    assert packages_imported(["stratopt.contracts"], heavy) == []


# ---------------------------------------------------------------- contracts used

#: File names of the contracts that say which stage output a string is (wildcards: any text).
FILE_NAMES = sorted(
    {
        Path(o.name).name
        for o in contracts.ALL
        if "." in o.name  # a file, not a folder
        and not Path(o.name).name.startswith("{")  # "{algorithm}.json" names nothing alone
    }
    | {
        contracts.LEGACY_BEST,
        contracts.LEGACY_SUMMARY,
        contracts.LEGACY_EQUITY,
        contracts.LEGACY_DRAWDOWN,
        Path(contracts.TWIN_CSV).name,
        Path(contracts.PROFILE_SPEEDSCOPE.name).name.removeprefix("{job}"),
    }
)
#: Folders under results/{dataset}/ (joined to a path, they name an output or hold some).
FOLDERS = sorted(
    {o.folder.split("/")[0] for o in contracts.ALL if o.folder}
    | {o.name for o in contracts.ALL if "." not in o.name}
    | {"twin-data", "results"}
)
#: A line that joins such a folder name for another purpose says so.
NOT_A_STAGE_FILE = "not a stage file"


def _pattern(name: str) -> re.Pattern[str]:
    """`name` as a regular expression, each {wildcard} standing for any text."""
    return re.compile(re.sub(r"\\\{\w+\\\}", ".*", re.escape(name)))


NAME_PATTERNS = [(name, re.compile(rf"(^|[/*]){_pattern(name).pattern}$")) for name in FILE_NAMES]


def _literal(node: ast.AST) -> str | None:
    """A string constant, or an f-string with each replacement field as '*'."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)
    return None


PATH_CALLS = {"Path", "with_name", "glob", "rglob", "join", "open", "joinpath"}


def _path_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Strings used to build a path: operands of `/`, arguments of Path(), glob(), ..."""
    found = []
    for node in ast.walk(tree):
        operands: list[ast.AST] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            operands = [node.left, node.right]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in PATH_CALLS:
                operands = list(node.args)
        for operand in operands:
            text = _literal(operand)
            if text is not None:
                found.append((operand.lineno, text))
    return found


def stage_file_literals(path: Path, root: Path = REPO) -> list[str]:
    """Every place in a module that spells a stage output's name instead of asking the contracts."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    bad = []
    for line, text in sorted(_path_literals(ast.parse(source))):
        if NOT_A_STAGE_FILE in lines[line - 1]:
            continue
        parts = text.strip("/").split("/")
        hits = [name for name, pattern in NAME_PATTERNS if pattern.search(text)]
        hits += [p for p in parts if p in FOLDERS]
        if hits:
            bad.append(f"{path.relative_to(root)}:{line}: {text!r} ({', '.join(hits)})")
    return bad


def test_the_literal_finder_finds_spelled_out_names(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from pathlib import Path\n"
        "a = results / 'summary.json'\n"
        "b = folder / 'runs' / f'{name}.json'\n"
        "c = Path(out).with_name('ingest.json')\n"
        "d = folder.glob(f'shard_{i}.parquet')\n"
        "e = 'summary.json is mentioned in a message, not a path'\n"
    )
    found = stage_file_literals(probe, tmp_path)
    assert [f.split(":")[1] for f in found] == ["2", "3", "4", "5"]


def test_every_reader_and_writer_names_stage_files_through_the_contracts() -> None:
    bad = [
        hit
        for name, path in MODULES.items()
        if name != "stratopt.contracts"
        for hit in stage_file_literals(path)
    ]
    assert bad == []


def test_the_rules_name_their_files_through_the_contracts() -> None:
    """No .smk file spells an output's name: common.smk's result() asks stratopt.contracts."""
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    bad = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            strings = re.findall(r'"([^"]*)"|\'([^\']*)\'', code)
            for text in (a or b for a, b in strings):
                bad += [f"{path.name}:{number}: {n}" for n, p in NAME_PATTERNS if p.search(text)]
            if re.search(r"RESULTS\}/", code) and "C." not in code:
                bad.append(f"{path.name}:{number}: a path under RESULTS not from the contracts")
    assert bad == []


@pytest.mark.parametrize(
    "module",
    [
        "stratopt.report.collect",
        "stratopt.report.sections",
        "stratopt.bench.sidebyside.equivalence",
        "stratopt.bench.sidebyside.tuned",
        "stratopt.bench.sidebyside.baseline",
        "stratopt.bench.sidebyside.runner",
        "stratopt.db.load",
        "stratopt.selection.select",
        "stratopt.search.optimize",
    ],
)
def test_the_readers_and_writers_import_the_contracts(module: str) -> None:
    assert "stratopt.contracts" in import_graph()[module]
