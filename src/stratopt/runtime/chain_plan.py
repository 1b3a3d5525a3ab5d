"""The chain job's plan, built in the Snakemake process (workflow/rules/common.smk).

Each step of the plan holds what the stage's own rule would hand its script:
its named inputs, outputs, params and logs as plain data, which the chain job
(stratopt.runtime.chain) turns back into a `snakemake`-like object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plain_named(named: Any, wildcards: Mapping[str, str]) -> dict[str, Any]:
    """A Snakemake Namedlist as the plan's plain form, {wildcard} patterns filled in.

    An unpacked input function (select's validation input) is called and its files
    take its place, by name; the names after it move with their files (the function
    may add none: validation off)."""
    from snakemake.iocontainers import Wildcards

    items: list[Any] = []
    names: dict[str, int | list[int]] = {}
    moved: dict[int, int] = {}  # a position in `named` -> its first item in `items`
    for pos, x in enumerate(named):
        moved[pos] = len(items)
        if callable(x):
            for key, path in x(Wildcards(fromdict=dict(wildcards))).items():
                names[key] = len(items)
                items.append(str(path))
        else:
            items.append(str(x).format(**wildcards) if isinstance(x, str) else x)
    moved[len(named)] = len(items)
    for name, (start, end) in named._names.items():
        names[name] = moved[start] if end is None else [moved[start], moved[end]]
    return {"items": items, "names": names}
