"""Strategy names as the legacy writes them in its files.

The legacy reads every input file of its data folder and renames each
strategy column `<file stem>_<name>`; ULTA then appends `_inv` to an inverted
one. Its text files and strategy_metrics.csv carry those names; stratopt's
own outputs keep the clean names (the stem lives in the matrix's `label`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def legacy_name(name: str, label: str) -> str:
    """`<label>_<name>`; names merged from a folder already carry their stem, once."""
    if not label or name.startswith(f"{label}_"):
        return name
    return f"{label}_{name}"


def legacy_names(names: Sequence[str], labels: Sequence[str]) -> list[str]:
    return [legacy_name(n, lab) for n, lab in zip(names, labels, strict=True)]


def clean_name(written: str, known: Iterable[str]) -> str:
    """The clean name behind a legacy-written one: `written` minus a `<stem>_` prefix.

    `known` are the clean names to look for (a set is fastest); a name that is
    not known with or without a prefix comes back as written.
    """
    pool = known if isinstance(known, (set, frozenset, dict)) else set(known)
    if written in pool:
        return written
    for i, ch in enumerate(written):
        if ch == "_" and written[i + 1 :] in pool:
            return written[i + 1 :]
    return written
