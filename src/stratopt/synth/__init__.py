"""The production twin: a deterministic stand-in for the private 25,544-strategy file.

`generate_twin` builds the T x N matrix (real names, order and dates; real
per-strategy metrics; dependence like the real sample's), `write_twin` writes
it as the production CSV (or as a zone file), `synth_stage` is the Snakemake
stage. How and why: docs/twin.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stratopt.errors import ConfigError
from stratopt.synth import latent, marginals, writer
from stratopt.synth.reference import ReferenceData, load_reference

log = logging.getLogger(__name__)

ZONE_STREAM = 2**31  # spawn key of the zone split's generator (window streams use 0..W-1)
ZONE_CONCENTRATION = 2.0  # Dirichlet parameter of each day's split across zones


@dataclass(frozen=True)
class Twin:
    dates: list[str]
    days: list[str]
    names: list[str]
    values: np.ndarray  # (T, N) float64


def generate_twin(
    ref: ReferenceData,
    seed: int,
    n_strategies: int | None = None,
    params: latent.FieldParams | None = None,
) -> Twin:
    """The first `n_strategies` columns of the twin for `seed` (a prefix of the full twin)."""
    p = params or latent.FieldParams()
    total = len(ref.names)
    n = total if n_strategies is None else n_strategies
    if not 1 <= n <= total:
        raise ConfigError(f"number of strategies must be 1..{total}, got {n}")
    layout = latent.layout_of(ref.names, p.tp_none)
    obs = latent.observations(layout, ref.sample_names, ref.sample_values, p)
    idx = np.arange(n)
    fields = latent.latent_scores(layout, obs, seed, p, np.unique(layout.window_of[:n]))
    z = np.stack(
        [
            fields[w][r]
            for w, r in zip(layout.window_of[:n].tolist(), layout.rule_of[:n].tolist(), strict=True)
        ]
    )
    tg = ref.targets(n)
    grids = marginals.quantile_grid(ref.sample_values)
    template = latent.template_of(layout, obs, p, idx)
    x0 = marginals.initial_series(
        z, tg.win_count, tg.zero_count, tg.gains, tg.losses, grids, template
    )
    x = marginals.fit_drawdown(x0, tg.max_drawdown, tg.gains, tg.losses)
    position = {name: i for i, name in enumerate(ref.names[:n])}
    for j, name in enumerate(ref.sample_names):  # the real series, verbatim
        if name in position:
            x[position[name]] = ref.sample_values[:, j]
    return Twin(ref.dates, ref.days, ref.names[:n], np.ascontiguousarray(x.T))


def zone_names(k: int) -> list[str]:
    """`Zone 1`..`Zone K`, zero-padded so that sorted order is numeric order."""
    width = len(str(k))
    return [f"Zone {i:0{width}d}" for i in range(1, k + 1)]


def split_zones(values: np.ndarray, k: int, seed: int, total: int) -> np.ndarray:
    """(T, N) -> (T, K, N) whose zone rows sum to `values`; prefix-stable like the twin."""
    t, n = values.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ZONE_STREAM,)))
    share = rng.gamma(ZONE_CONCENTRATION, size=(t, k, total))[:, :, :n]
    share /= share.sum(axis=1, keepdims=True)
    parts = share * values[:, None, :]
    parts[:, -1, :] = values - parts[:, :-1, :].sum(axis=1)  # sums back to the daily value
    return parts


def write_twin(
    ref: ReferenceData, out: str | Path, seed: int, n_strategies: int | None = None, zones: int = 0
) -> Twin:
    """Generate and write the daily twin, or with zones > 0 its zone file."""
    if zones < 0:
        raise ConfigError(f"zones must be >= 0, got {zones}")
    twin = generate_twin(ref, seed, n_strategies)
    if zones:
        parts = split_zones(twin.values, zones, seed, len(ref.names))
        writer.write_zones(out, twin.dates, twin.days, zone_names(zones), twin.names, parts)
    else:
        writer.write_daily(out, twin.dates, twin.days, twin.names, twin.values)
    log.info(
        "twin seed %d: %d strategies x %d days%s -> %s",
        seed,
        len(twin.names),
        len(twin.dates),
        f", {zones} zones" if zones else "",
        out,
    )
    return twin


def synth(
    reference_data: str | Path,
    out: str | Path,
    seed: int,
    n_strategies: int | None = None,
    zones: int = 0,
) -> None:
    """Read the reference data and write the twin (the command line's and benchmark's entry)."""
    write_twin(load_reference(reference_data), out, seed, n_strategies, zones)


def synth_stage(smk: Any) -> None:
    """Snakemake rule `synth`: the daily twin; wildcards seed and n, inputs the two reference files.

    The zone variant (`stratopt synth --zones K`) is made on the command line;
    the pipeline reads such a file in zone mode (docs/zones.md).
    """
    synth(
        reference_data=Path(smk.input.metrics).parent,
        out=smk.output[0],
        seed=int(smk.wildcards.seed),
        n_strategies=int(smk.wildcards.n),
    )
