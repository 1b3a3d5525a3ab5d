"""The search algorithms, one plugin each (entry-point group stratopt.algorithms).

Load one through the registry: `stratopt.algorithms.load_algorithm("sa")`;
its own settings (`optimize.params.<name>`) through `algorithm_settings`,
which is where a plugin's settings are checked when it loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from stratopt.errors import ConfigError

if TYPE_CHECKING:
    from stratopt.algorithms.base import Algorithm


def load_algorithm(name: str) -> Algorithm:
    """An instance of the algorithm plugin registered under `name`."""
    from stratopt.registry import load

    plugin = load("algorithms", name)
    instance: Algorithm = plugin() if isinstance(plugin, type) else plugin
    return instance


def available_algorithms() -> list[str]:
    from stratopt.registry import available

    return sorted(available("algorithms"))


def algorithm_settings(name: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """`name`'s settings with its defaults filled in, checked by its settings class.

    ConfigError (naming optimize.params.<name> and the setting) for an unknown
    plugin, an unknown setting, a wrong type or a value out of range; a
    plugin without a `settings_class` takes no settings.
    """
    from stratopt.algorithms.settings import build_settings, resolved

    plugin = load_algorithm(name)
    where = f"optimize.params.{name}"
    cls = getattr(plugin, "settings_class", None)
    if cls is None:
        if values:
            raise ConfigError(f"{where}: the {name} plugin declares no settings (settings_class)")
        return {}
    return resolved(build_settings(cls, values, where))


def check_params(
    params: Mapping[str, Mapping[str, Any] | None], algorithms: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The resolved settings of every algorithm in `algorithms`, before any search.

    Every key of `params` must name an installed algorithm (a misspelt
    `optimize.params.acoo` is an error, not ignored); the settings of the
    algorithms that will run are built, so a bad one fails here.
    """
    installed = set(available_algorithms())
    unknown = sorted(k for k in params if k.lower() not in installed)
    if unknown:
        raise ConfigError(
            f"optimize.params: no algorithm plugin named {', '.join(map(repr, unknown))}; "
            f"installed: {', '.join(sorted(installed))}"
        )
    lowered = {k.lower(): v for k, v in params.items()}
    return {name: algorithm_settings(name, lowered.get(name.lower())) for name in algorithms}
