"""`stratopt config from-ini`: the legacy's INI as a config that validates and runs."""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stratopt.data.matrix import read_matrix
from stratopt.errors import ConfigError
from stratopt.legacy.ini import convert_ini
from stratopt.runtime.config_schema import validate_config
from workflow_helpers import prepare_workdir, snakemake


@pytest.fixture(scope="module")
def ini(shared_data: Path) -> Path:
    path = shared_data / "legacy-outputs" / "config_zone.ini"
    if not path.exists():
        pytest.skip(f"{path} not found (the legacy's production INI)")
    return path


def _keys(path: Path) -> list[tuple[str, str]]:
    parser = configparser.ConfigParser()
    parser.read(path)
    return [(s, k) for s in parser.sections() for k in parser.options(s)]


def test_every_key_of_the_production_ini_is_accounted_for(ini: Path) -> None:
    conversion = convert_ini(ini, source="sample.csv")
    written = [(f.section, f.key) for f in conversion.fates if f.value is not None]
    assert sorted(written) == sorted(_keys(ini))  # each once, none dropped
    for fate in conversion.fates:
        assert fate.status in ("mapped", "default", "unused", "not supported")
        if fate.status in ("not supported", "unused"):
            assert fate.note, fate  # always with the reason
    unsupported = {f.key for f in conversion.fates if f.status == "not supported"}
    assert {"use_checkpoint", "run_monte_carlo", "enable"} <= unsupported
    validate_config(conversion.config)
    cfg = conversion.config
    assert cfg["optimize"] == {
        "preset": "legacy",
        "seed": 42,
        "generations": 100,
        "min_size": 35,
        "max_size": 100,
        "population": 30,
        "mutation_rate": 0.1,
        "algorithms": ["ga", "pso", "sa", "de", "aco", "hc", "bo"],
    }
    assert (cfg["ulta"], cfg["balanced"], cfg["metric"]) == (False, False, "ratio")
    assert cfg["zone"] == {"enabled": False, "weights": [1.0, 1.0, 1.0, 1.0]}
    assert cfg["input"] == {"source": "sample.csv"} and cfg["dataset"] == "config_zone"


def test_the_legacy_s_own_rules_and_defaults(tmp_path: Path) -> None:
    """Absent keys take the legacy's defaults (zone mode on!); its clamps and fallbacks apply."""
    ini = tmp_path / "old.ini"
    ini.write_text(
        "[GENERAL]\nmetric = Sharpe\nga_generations = 3\n"
        "[PORTFOLIO]\nmutation_rate = 0.9\npopulation_size = 4\n"
        "[PATHS]\nconsolidated_dir = zones\n"
        "[ALGORITHMS]\nuse_genetic_algorithm = no\nuse_simulated_annealing = YES\n"
        "[EXTRA]\ncolour = blue\n"
    )
    conversion = convert_ini(ini)
    validate_config(conversion.config)
    cfg = conversion.config
    assert cfg["metric"] == "ratio"  # an unknown metric: the legacy falls back to ratio
    assert cfg["optimize"]["generations"] == 10 and cfg["optimize"]["population"] == 10
    assert cfg["optimize"]["mutation_rate"] == 0.5
    assert (cfg["optimize"]["min_size"], cfg["optimize"]["max_size"]) == (3, 5)
    assert cfg["optimize"]["algorithms"] == ["pso", "sa", "de", "aco", "hc", "bo"]
    assert cfg["zone"]["enabled"] is True  # the legacy's default when the key is absent
    assert cfg["ulta"] is False  # its zone mode never inverts
    assert cfg["input"]["source"] == str(tmp_path / "zones")  # relative to the INI
    fates = {(f.section, f.key): f for f in conversion.fates}
    assert fates[("EXTRA", "colour")].status == "not supported"
    assert fates[("OPTIMIZATION", "apply_ulta_logic")].status == "default"
    assert "never inverts" in fates[("OPTIMIZATION", "apply_ulta_logic")].note


def test_a_config_the_schema_refuses_is_named() -> None:
    with pytest.raises(ConfigError, match="config key optimize.population"):
        validate_config({"optimize": {"population": 3}})
    with pytest.raises(ConfigError, match="zone_weights"):
        validate_config({"zone_weights": [1.0]})  # replaced by zone.weights


@pytest.mark.slow  # the pipeline through Snakemake
def test_the_converted_ini_runs_the_sample(
    ini: Path, real_sample_csv: Path, tmp_path: Path
) -> None:
    """Through the command line, then Snakemake: ingest to a search of every size, 35..100."""
    work = prepare_workdir(tmp_path)
    out = work / "from_ini.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "stratopt", "config", "from-ini", str(ini), "--out", str(out)]
        + ["--source", str(real_sample_csv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[OPTIMIZATION] run_monte_carlo = False: not supported" in proc.stderr
    text = out.read_text()
    assert text.startswith("# stratopt config from the legacy INI")
    assert "#   [ZONE_SPECIFIC_OPTIMIZATION] min_size = 10: not supported" in text
    rel = Path("results") / yaml.safe_load(text)["dataset"]
    results = work / rel
    targets = [str(rel / "prepared.parquet"), str(rel / "runs" / "sa.json")]
    snakemake(work, "--configfile", str(out), "--", *targets)
    prepared = read_matrix(results / "prepared.parquet")
    assert prepared.n_strategies == 500 and not any(n.endswith("_inv") for n in prepared.names)
    run = json.loads((results / "runs" / "sa.json").read_text())
    assert [r["size"] for r in run["sizes"]] == list(range(35, 101))
    assert run["preset"] == "legacy" and run["settings"]["generations"] == 100
