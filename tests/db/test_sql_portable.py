"""The SQL texts are one portable subset: parsed by a HeavyDB dialect, run on DuckDB."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.tokens import TokenType

from stratopt.data.matrix import Matrix
from stratopt.db.compute import flags_arrow
from stratopt.db.duckdb_backend import DuckDBDatabase
from stratopt.db.load import load_matrix
from stratopt.db.sql import sql_names, sql_text


class HeavyDB(Postgres):
    """HeavyDB's SQL as far as our texts need it: Postgres minus what HeavyDB lacks.

    HeavyDB (Calcite) has no `::` casts (explicit CAST only) and no aggregate
    FILTER clause; identifiers are double-quoted. The tokenizer drops `::`, so
    a text using it fails to parse; FILTER is refused after parsing.
    """

    class Tokenizer(Postgres.Tokenizer):
        KEYWORDS = {k: v for k, v in Postgres.Tokenizer.KEYWORDS.items() if k != "::"}


def parse_heavydb(sql: str) -> exp.Expression:
    tokens = sqlglot.tokenize(sql, dialect=HeavyDB)
    assert all(t.token_type != TokenType.DCOLON for t in tokens), "`::` cast"
    tree = sqlglot.parse_one(sql, dialect=HeavyDB)
    assert not list(tree.find_all(exp.Filter)), "aggregate FILTER clause"
    return tree


NAMES = sql_names()


def test_every_text_is_listed():
    assert {
        "filter_pnl",
        "filter_sessions",
        "metrics",
        "ulta",
        "inversion",
        "data_range",
        "prepared_pnl",
        "filter_zone_pnl",
    } <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_parses_in_heavydb_dialect_and_is_portable(name):
    text = sql_text(name)
    tree = parse_heavydb(text)
    assert isinstance(tree, exp.Select)
    idents = list(tree.find_all(exp.Identifier))
    assert idents, "no identifiers?"
    unquoted = {i.name for i in idents if not i.quoted}
    # aliases of tables (p, q, s, t, ...) are the only unquoted identifiers allowed
    assert all(re.fullmatch(r"[a-z]", u) for u in unquoted), unquoted
    strings = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]
    assert strings == [], f"string literals in SQL text: {strings}"
    code = re.sub(r"--[^\n]*", "", text)  # comments may say anything
    assert "`" not in code and "::" not in code and not re.search(r"\bFILTER\b", code)
    assert ";" not in code, "one statement per file, no trailing semicolon"


def test_dialect_refuses_non_portable_forms():
    with pytest.raises((AssertionError, sqlglot.errors.ParseError)):
        parse_heavydb('SELECT "x"::INTEGER FROM "t"')
    with pytest.raises(AssertionError):
        parse_heavydb('SELECT SUM("x") FILTER (WHERE "x" > 0) FROM "t"')


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    rng = np.random.default_rng(7)
    t, n = 12, 9
    values = rng.normal(0, 100, size=(t, n))
    values[:, 0] = np.abs(values[:, 0])  # no losing day: infinite profit factor, NULL in SQL
    values[:, 1] = -np.abs(values[:, 1])  # no winning day
    m = Matrix(
        dates=np.datetime64("2024-01-01") + np.arange(t) * np.timedelta64(7, "D"),
        days=["Thursday"] * t,
        names=[f"SENSEX 1000-1100 SL{i + 5}%" for i in range(n)],
        values=values,
        labels=["f"] * n,
    )
    db = DuckDBDatabase(tmp_path_factory.mktemp("sql") / "t.duckdb")
    db.connect()
    load_matrix(db, m)
    from stratopt.db.schema import PARAMS, params_table, zone_pnl_table

    db.replace_table(PARAMS, params_table(None, None))
    db.replace_view("pnl_filtered", sql_text("filter_pnl"))
    db.replace_table_as("ulta", sql_text("ulta"))
    db.replace_table("ulta_flags", flags_arrow(np.arange(n) % 2 == 1))
    zone_values = np.stack([values * 0.25, values * 0.75], axis=1)  # two zones
    db.replace_table("zone_pnl", zone_pnl_table(m.dates, zone_values.transpose(2, 0, 1)))
    db.replace_view("metrics_input", sql_text("prepared_pnl"))
    yield db
    db.close()


@pytest.mark.parametrize("name", NAMES)
def test_runs_on_duckdb_as_written_and_as_regenerated(small_db, name):
    text = sql_text(name)
    got = small_db.execute(text)
    assert got.num_rows > 0
    regenerated = parse_heavydb(text).sql(dialect=HeavyDB)
    again = small_db.execute(regenerated)
    assert again.num_rows == got.num_rows
    assert again.column_names == got.column_names
