"""A picklable copy of the `snakemake` object a rule script receives.

A profiled stage runs in a child process launched under py-spy, so the
child needs the rule's plain data (input, output, params, wildcards, threads,
log, config, rule, resources). Snakemake's own object holds references to
the workflow and cannot cross a process boundary; this copy can, and the
stage function reads it exactly as it reads the real one
(`smk.input.matrix`, `smk.input[0]`, `smk.params.get("x")`, `smk.config`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


class NamedList(list):
    """A list whose items may also have names, like Snakemake's Namedlist."""

    def __init__(
        self, items: Iterable[Any] = (), names: dict[str, int | tuple[int, int]] | None = None
    ):
        super().__init__(items)
        # name -> index, or (start, end) for a named slice (a named list of files)
        self._names: dict[str, int | tuple[int, int]] = dict(names or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_names":
            raise AttributeError(name)
        try:
            return self._get(name)
        except KeyError:
            raise AttributeError(f"no item named {name!r}") from None

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._get(key)
        return super().__getitem__(key)

    def _get(self, name: str) -> Any:
        where = self._names[name]
        if isinstance(where, tuple):
            return list.__getitem__(self, slice(*where))
        return list.__getitem__(self, where)

    def keys(self) -> list[str]:
        return list(self._names)

    def items(self) -> Iterator[tuple[str, Any]]:
        for name in self._names:
            yield name, self._get(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self._get(name) if name in self._names else default

    def __str__(self) -> str:
        return " ".join(map(str, self))

    def __reduce__(self) -> tuple:
        return (NamedList, (list(self), self._names))


def plain_namedlist(obj: Any) -> NamedList:
    """Copy a Snakemake Namedlist (or any sequence / mapping) into a NamedList."""
    if obj is None:
        return NamedList()
    if isinstance(obj, dict):
        return NamedList(obj.values(), {k: i for i, k in enumerate(obj)})
    names: dict[str, int | tuple[int, int]] = {}
    raw = getattr(obj, "_names", None) or {}
    for name, where in raw.items():
        start, end = where if isinstance(where, tuple) else (where, None)
        names[name] = start if end is None else (start, end)
    return NamedList([_plain(v) for v in obj], names)


def _plain(value: Any) -> Any:
    """Snakemake wraps file names in str subclasses (IOFile); keep plain str."""
    if isinstance(value, str):
        return str(value)
    return copy.deepcopy(value)


@dataclass
class RuleContext:
    """The parts of a `snakemake` object that a stage function reads."""

    rule: str
    input: NamedList = field(default_factory=NamedList)
    output: NamedList = field(default_factory=NamedList)
    params: NamedList = field(default_factory=NamedList)
    wildcards: NamedList = field(default_factory=NamedList)
    log: NamedList = field(default_factory=NamedList)
    resources: NamedList = field(default_factory=NamedList)
    threads: int = 1
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_snakemake(cls, smk: Any) -> RuleContext:
        """A plain copy of the `snakemake` object (or of another RuleContext)."""
        resources = getattr(smk, "resources", None)
        return cls(
            rule=str(getattr(smk, "rule", "") or ""),
            input=plain_namedlist(getattr(smk, "input", None)),
            output=plain_namedlist(getattr(smk, "output", None)),
            params=plain_namedlist(getattr(smk, "params", None)),
            wildcards=plain_namedlist(getattr(smk, "wildcards", None)),
            log=plain_namedlist(getattr(smk, "log", None)),
            resources=_plain_resources(resources),
            threads=int(getattr(smk, "threads", 1) or 1),
            config=copy.deepcopy(dict(getattr(smk, "config", {}) or {})),
        )


def _plain_resources(resources: Any) -> NamedList:
    """Resources may hold callables for unset values; keep the plain ones."""
    plain = plain_namedlist(resources)
    keep = {
        name: value
        for name, value in plain.items()
        if isinstance(value, (str, int, float, bool, type(None)))
    }
    return NamedList(keep.values(), {k: i for i, k in enumerate(keep)})
