"""Each algorithm's own settings: one dataclass per algorithm, set from optimize.params.

The defaults give the bits the code gave before the settings were declared
(search_golden.py), the schema and the docs are the dataclasses' own
(generated, compared here), an unknown or bad setting is an error naming it,
and a setting reaches the search, the rules' params and the checkpoints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import search_golden
import yaml

from search_support import prepared_sample, write_prepared
from stratopt.algorithms import algorithm_settings, check_params, load_algorithm
from stratopt.algorithms.settings import SHARED, describe, markdown_table, schema_fragment
from stratopt.engine.evaluator import Evaluator
from stratopt.errors import ConfigError
from stratopt.runtime import rule_params
from stratopt.runtime.config_checks import config_problems
from stratopt.search.optimize import OptimizeSettings, fingerprint, optimize

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DOCS = REPO / "docs" / "algorithms.md"
GOLDEN = Path(__file__).parent / "data" / "search_golden.json"
EIGHT = ["ga", "pso", "sa", "de", "aco", "hc", "bo", "rs"]
SMALL = {"generations": 12, "population": 10, "mutation_rate": 0.1}


def validated(optimize_section: dict[str, Any]) -> dict[str, Any]:
    """A pipeline config with every schema default filled in, as Snakemake sees it."""
    from snakemake.utils import validate

    config: dict[str, Any] = {
        "dataset": "settings",
        "input": {"source": "x.csv"},
        "optimize": optimize_section,
    }
    validate(config, str(SCHEMA))
    return config


@pytest.fixture(scope="module")
def evaluator(real_sample_csv: Path) -> Evaluator:
    return Evaluator(prepared_sample(real_sample_csv).values, metric="ratio")


def test_the_defaults_give_the_same_bits_as_before(real_sample_csv: Path) -> None:
    """48 searches (8 algorithms x both presets x two budgets x two sizes) through the
    config with the schema's defaults (every setting present, derived ones null)."""

    def config_for(preset: str, budget: int | None) -> dict[str, Any]:
        config = validated(search_golden.optimize_config(preset, budget)["optimize"])
        assert config["optimize"]["params"]["aco"]["ants"] is None  # the schema filled it
        return config

    got = search_golden.run_cases(prepared_sample(real_sample_csv), config_for)
    want = json.loads(GOLDEN.read_text())
    assert got == want


#: The default BO's four golden digests before its shortlist (2026-12-01), when every
#: seen strategy entered each Thompson draw: `shortlist: null` must still give them.
BO_EVERY_CANDIDATE = {
    "bo-default-2000-10": "5d41bd4144900aa618dae978d87baea8ba00d172aeb5b1ce7c88ea5275c3b610",
    "bo-default-2000-60": "d05208140e2602191b6a8a07f12aaaa584fa02bc413250b36c3384f6ec3c777f",
    "bo-default-rule-10": "b159316a7cdec39b3d209156cac2a7ea5b50d43159c84e5c7dc1c34f71660c53",
    "bo-default-rule-60": "d1c40928ebc143e4e4357f865af3a9dd678293d0a77ca74836f3b944d4572612",
}


def test_a_null_bo_shortlist_gives_the_earlier_law_bit_for_bit(real_sample_csv: Path) -> None:
    from stratopt.search.runner import build_evaluator, search_one

    matrix = prepared_sample(real_sample_csv)
    got = {}
    for budget in (2000, None):
        section = search_golden.optimize_config("default", budget)["optimize"]
        config = validated({**section, "params": {"bo": {"shortlist": None}}})
        settings = OptimizeSettings.from_config(config)
        evaluator = build_evaluator(matrix, settings)
        for size in search_golden.SIZES:
            record = search_one(evaluator, "bo", size, settings)
            got[search_golden.case_id("bo", "default", budget, size)] = search_golden.digest(record)
    assert got == BO_EVERY_CANDIDATE
    assert set(got.values()).isdisjoint(
        v["digest"] for v in json.loads(GOLDEN.read_text()).values()
    )


def test_the_schema_holds_each_algorithms_settings_class() -> None:
    params = yaml.safe_load(SCHEMA.read_text())["properties"]["optimize"]["properties"]["params"]
    assert set(params["properties"]) == set(EIGHT)
    for name in EIGHT:
        cls = load_algorithm(name).settings_class
        assert params["properties"][name] == schema_fragment(cls), name
        assert not SHARED & {i.name for i in describe(cls)}


def test_the_docs_table_of_each_algorithm_is_its_settings_class() -> None:
    """docs/algorithms.md: between `<!-- settings:NAME -->` and `<!-- /settings -->`."""
    text = DOCS.read_text(encoding="utf-8")
    for name in EIGHT:
        marked = rf"<!-- settings:{name} -->\n((?:(?!<!--).)*?)\n<!-- /settings -->"
        found = re.search(marked, text, re.S)
        assert found, f"docs/algorithms.md has no settings table for {name}"
        assert found.group(1) == markdown_table(load_algorithm(name).settings_class), name


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("aco", {"antz": 5}, r"optimize\.params\.aco: Additional properties .*'antz'.*ants"),
        ("aco", {"ants": "many"}, r"optimize\.params\.aco\.ants: 'many' is not of type"),
        ("aco", {"rho": 1.0}, r"optimize\.params\.aco\.rho: 1\.0 is greater than or equal"),
        ("sa", {"initial_accept": 0}, r"optimize\.params\.sa\.initial_accept"),
        ("de", {"F": True}, r"optimize\.params\.de\.F: True is not of type"),
        ("ga", {"tournament": 2}, r"optimize\.params\.ga: Additional properties"),
    ],
)
def test_a_bad_setting_is_an_error_naming_it(
    evaluator: Evaluator, name: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        algorithm_settings(name, values)
    before = evaluator.evaluations
    with pytest.raises(ConfigError, match=message):  # the plugin's run checks them too
        load_algorithm(name).run(
            evaluator, 5, budget=50, rng=np.random.default_rng(0), params={**SMALL, **values}
        )
    assert evaluator.evaluations == before, "refused before any evaluation"


def test_an_unknown_algorithm_under_params_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no algorithm plugin named 'acoo'"):
        check_params({"acoo": {"ants": 3}}, ["aco"])
    problems = config_problems({"optimize": {"params": {"acoo": {}}}})
    assert problems and "optimize.params: no algorithm named 'acoo'" in problems[0]
    assert config_problems(validated({})) == []


def test_the_schema_refuses_an_unknown_setting() -> None:
    from snakemake.exceptions import WorkflowError

    with pytest.raises(WorkflowError, match="'antz' was unexpected"):
        validated({"params": {"aco": {"antz": 3}}})
    with pytest.raises(WorkflowError, match="'many' is not of type"):
        validated({"params": {"bo": {"batch": "many"}}})


def test_a_setting_changes_the_search_and_its_default_changes_nothing(
    evaluator: Evaluator,
) -> None:
    aco = load_algorithm("aco")

    def run(**own: Any) -> Any:
        return aco.run(
            evaluator, 20, budget=200, rng=np.random.default_rng(4), params={**SMALL, **own}
        )

    plain, explicit, other = run(), run(ants=10, rho=0.1), run(ants=3)
    # ants = budget / 10 = 20, at most P = 10: 10 is the default here
    assert np.array_equal(plain.best, explicit.best) and plain.trace == explicit.trace
    assert not (np.array_equal(plain.best, other.best) and plain.trace == other.trace)
    # the legacy swap count sets SA's and HC's natural budget
    for name in ("sa", "hc"):
        res = load_algorithm(name).run(
            evaluator,
            10,
            budget=None,
            rng=np.random.default_rng(1),
            params={**SMALL, "iterations": 30},
            preset="legacy",
        )
        assert res.evaluations == 31


def test_settings_reach_the_rules_params_and_the_fingerprint() -> None:
    config = validated({"params": {"aco": {"ants": 7}, "bo": {"explore": 0.5}}})
    search = rule_params.for_rule("optimize", config)["search"]
    assert search["params"]["aco"]["ants"] == 7
    assert rule_params.for_rule("validate", config)["config"]["optimize"]["params"]["bo"] == {
        **config["optimize"]["params"]["bo"],
        "explore": 0.5,
    }
    settings = OptimizeSettings.from_config(rule_params.optimize_config(search, {}))
    assert settings.search_params("aco")["ants"] == 7
    # the settings of algorithms that do not run are no param: changing them reruns nothing
    only_sa = validated({"algorithms": ["sa"], "params": {"aco": {"ants": 7}}})
    assert set(rule_params.for_rule("optimize", only_sa)["search"]["params"]) == {"sa"}
    only_sa["validation"]["algorithms"] = ["sa", "bo"]
    shown = rule_params.for_rule("validate", only_sa)["config"]["optimize"]["params"]
    assert set(shown) == {"sa", "bo"}
    plain = OptimizeSettings.from_config(validated({}))
    # only the algorithm's own settings enter its fingerprint; explicit defaults change nothing
    assert fingerprint("aco", settings, "x") != fingerprint("aco", plain, "x")
    assert fingerprint("sa", settings, "x") == fingerprint("sa", plain, "x")
    assert fingerprint("aco", plain, "x") == fingerprint(
        "aco", OptimizeSettings.from_config({}), "x"
    )


def test_optimize_refuses_a_bad_setting_before_any_work(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    prepared = write_prepared(real_sample_csv, tmp_path / "prepared.parquet")
    settings = OptimizeSettings(
        min_size=5, max_size=6, generations=10, population=10, params={"bo": {"batchh": 3}}
    )
    with pytest.raises(ConfigError, match=r"optimize\.params\.bo: .*'batchh'"):
        optimize(prepared, ["rs", "bo"], settings, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_the_run_document_records_the_algorithms_own_settings(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    from stratopt.cli import main

    prepared = write_prepared(real_sample_csv, tmp_path / "prepared.parquet")
    args = [
        "optimize", str(prepared), str(tmp_path / "runs"), "--algorithms", "aco,rs",
        "--min-size", "5", "--max-size", "5", "--generations", "10", "--population", "10",
        "--workers", "1", "--no-progress", "--set", "aco.ants=4", "--set", "aco.alpha=2",
    ]  # fmt: skip
    assert main(args) == 0
    aco = json.loads((tmp_path / "runs" / "aco.json").read_text())["settings"]["params"]
    assert aco == {"ants": 4, "alpha": 2.0, "rho": 0.1, "deposit": 0.2, "tau_max": 1.0}
    assert json.loads((tmp_path / "runs" / "rs.json").read_text())["settings"]["params"] == {}
    assert main([*args[:-4], "--set", "aco.ants"]) == 2  # not ALGORITHM.SETTING=VALUE


@pytest.mark.parametrize("name", ["ga", "pso", "sa", "de", "aco", "hc", "bo", "rs"])
def test_defaults_are_valid_and_skip_only_an_exact_default(name: str) -> None:
    """build_settings skips the schema check (and jsonschema's import) for the defaults
    only: they pass the schema, and a default written with another type is checked."""
    import jsonschema

    from stratopt.algorithms import settings as S

    cls = load_algorithm(name).settings_class
    defaults = {info.name: info.default for info in describe(cls)}
    assert not list(jsonschema.Draft202012Validator(schema_fragment(cls)).iter_errors(defaults))
    assert S._only_defaults(cls, defaults)
    assert S._only_defaults(cls, {})
    assert not S._only_defaults(cls, {"no_such_setting": 1})
    for key, value in defaults.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        twisted = True if value == 1 else float(value) if isinstance(value, int) else str(value)
        assert not S._only_defaults(cls, {key: twisted})
        with pytest.raises(ConfigError):
            S.build_settings(cls, {key: "not a number"}, f"optimize.params.{name}")
