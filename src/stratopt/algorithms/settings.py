"""Each algorithm's own settings: a frozen dataclass per algorithm, set from the config.

`optimize.params.<algorithm>` in the pipeline config (or `--set` on the
command line) holds an algorithm's settings; the algorithm declares them as
a dataclass (`settings_class`) whose fields say their type, default, range
and meaning (`setting(...)`). One declaration serves four readers, so they
cannot drift apart: the checks here (an unknown setting, a wrong type or a
value out of range is a ConfigError naming it), the config schema (its
`optimize.params.<algorithm>` objects must equal `schema_fragment`, tested),
the tables in docs/algorithms.md (`markdown_table`, tested) and the
fingerprint of the optimize checkpoints (the resolved values).

A setting whose default is None is derived from the budget, the population
or the size when the search starts (its `when_null` says how), so that one
config serves every budget.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, Union

from stratopt.errors import ConfigError

#: The knobs every algorithm shares (top-level `optimize.*`): no algorithm may reuse them.
SHARED = frozenset({"generations", "population", "mutation_rate"})

_JSON_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string"}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")

S = TypeVar("S")


@dataclasses.dataclass(frozen=True)
class AlgorithmSettings:
    """The base of every algorithm's settings class: no settings of its own."""


def setting(
    default: Any,
    meaning: str,
    *,
    when_null: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    exclusive_maximum: float | None = None,
) -> Any:
    """A settings field: its default, its one-line meaning and its range (JSON-schema words)."""
    bounds = dict(
        zip(_BOUNDS, (minimum, maximum, exclusive_minimum, exclusive_maximum), strict=True)
    )
    meta = {
        "meaning": meaning,
        "when_null": when_null,
        "bounds": {k: v for k, v in bounds.items() if v is not None},
    }
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class SettingInfo:
    """One field of a settings class, as the schema and the docs show it."""

    name: str
    kind: type
    nullable: bool
    default: Any
    meaning: str
    when_null: str | None
    bounds: dict[str, float]


def describe(cls: type) -> list[SettingInfo]:
    """The fields of a settings dataclass, in declaration order."""
    return list(_described(cls))


@functools.cache
def _described(cls: type) -> tuple[SettingInfo, ...]:
    """describe's work, once per class: typing.get_type_hints compiles every annotation
    (0.3 ms, paid by each search when build_settings asked for it per call)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass: an algorithm's settings must be one")
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind, nullable = _plain_type(hints[f.name], f"{cls.__name__}.{f.name}")
        if f.default is dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has no default: every setting needs one")
        out.append(
            SettingInfo(
                name=f.name,
                kind=kind,
                nullable=nullable,
                default=f.default,
                meaning=str(f.metadata.get("meaning", "")),
                when_null=f.metadata.get("when_null"),
                bounds=dict(f.metadata.get("bounds", {})),
            )
        )
    return tuple(out)


def _plain_type(hint: Any, where: str) -> tuple[type, bool]:
    """(int | float | bool | str, whether None is allowed) of a field's annotation."""
    nullable = False
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            raise TypeError(f"{where}: a setting has one type (and maybe None), not {hint!r}")
        hint = args[0]
    if hint not in _JSON_TYPES:
        raise TypeError(f"{where}: a setting is an int, float, bool or str, not {hint!r}")
    return hint, nullable


def schema_fragment(cls: type) -> dict[str, Any]:
    """The JSON schema of `optimize.params.<algorithm>` for this settings class."""
    properties: dict[str, Any] = {}
    for info in describe(cls):
        kind = _JSON_TYPES[info.kind]
        prop: dict[str, Any] = {"type": [kind, "null"] if info.nullable else kind}
        prop.update(info.bounds)
        prop["default"] = info.default
        meaning = info.meaning
        if info.when_null:
            meaning += f"; null = {info.when_null}"
        prop["description"] = meaning
        properties[info.name] = prop
    doc = (cls.__doc__ or "").strip().splitlines()
    return {
        "type": "object",
        "additionalProperties": False,
        "default": {},
        "description": doc[0] if doc else "",
        "properties": properties,
    }


_VALIDATORS: dict[type, Any] = {}


def _validator(cls: type) -> Any:
    """The JSON-schema validator of a settings class (built once: a search loads it per size)."""
    if cls not in _VALIDATORS:
        import jsonschema

        _VALIDATORS[cls] = jsonschema.Draft202012Validator(schema_fragment(cls))
    return _VALIDATORS[cls]


def _only_defaults(cls: type, values: Mapping[str, Any]) -> bool:
    """Every configured value is its setting's default, of the default's own type."""
    defaults = {info.name: info.default for info in _described(cls)}
    return all(
        name in defaults and type(v) is type(defaults[name]) and v == defaults[name]
        for name, v in values.items()
    )


def build_settings(cls: type[S], values: Mapping[str, Any] | None, where: str) -> S:
    """An instance of the settings class from configured values (missing ones: defaults).

    ConfigError naming `where` (e.g. optimize.params.aco) and the setting for
    an unknown name, a wrong type or a value out of range.
    """
    values = dict(values or {})
    reused = sorted(SHARED & {f.name for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
    if reused:
        raise ConfigError(
            f"{where}: {', '.join(reused)} are optimize.* settings of every algorithm"
        )
    # Only the defaults configured (the pipeline's schema fills them in) need no check:
    # they are valid (tested), and jsonschema, 6.7 MB and 0.1 s of a job's imports, stays
    # unloaded in the default run's search jobs.
    errors = (
        []
        if _only_defaults(cls, values)
        else sorted(_validator(cls).iter_errors(values), key=lambda e: list(e.absolute_path))
    )
    if errors:
        first = errors[0]
        key = ".".join(str(p) for p in first.absolute_path)
        known = ", ".join(i.name for i in describe(cls)) or "none"
        raise ConfigError(
            f"{where}{'.' + key if key else ''}: {first.message} (its settings: {known})"
        )
    kinds = {i.name: i.kind for i in describe(cls)}
    typed = {k: v if v is None else kinds[k](v) for k, v in values.items()}
    return cls(**typed)


def resolved(settings: Any) -> dict[str, Any]:
    """The settings as a plain dict (what the checkpoints' fingerprint and the runs record)."""
    return dataclasses.asdict(settings)


def markdown_table(cls: type) -> str:
    """The docs' table of a settings class: setting, type, default, range, meaning."""
    rows = [
        "| setting | type | default | range | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for info in describe(cls):
        kind = info.kind.__name__ + (" or null" if info.nullable else "")
        default = "null" if info.default is None else repr(info.default)
        meaning = info.meaning
        if info.when_null:
            meaning += f"; null = {info.when_null}"
        rows.append(
            f"| `{info.name}` | {kind} | {default} | {_range_text(info.bounds)} | {meaning} |"
        )
    if len(rows) == 2:
        return "No settings of its own (only the shared `optimize.*` knobs)."
    return "\n".join(rows)


def _range_text(bounds: Mapping[str, float]) -> str:
    words = (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    )
    return ", ".join(f"{word} {bounds[key]:g}" for key, word in words if key in bounds) or "any"
