"""The database a rule writes: its own DuckDB file, or the configured server.

With DuckDB, each rule that writes tables has a database file of its own as
an output (workflow/rules/database.smk): load_db makes a new one, prepare and
store_results start from a copy of their input's file. The work happens in a
temporary file beside the output, renamed over it only when the stage
succeeds, so a failed stage never leaves a half-written database and a rule
never writes into another rule's output. The file's path is the rule's
output, never rebuilt here. A server engine (HeavyDB) has no file.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from stratopt.db import open_database
from stratopt.db.base import Database, DatabaseError
from stratopt.runtime.atomic import atomic_path


@contextlib.contextmanager
def rule_database(
    settings: Mapping[str, Any], output: str | Path | None, source: str | Path | None = None
) -> Iterator[Database]:
    """Open the rule's database (connected), committing a DuckDB file only on success.

    settings: the rule's `database` param (rule_params.database). output: the
    rule's DuckDB file (None for a server engine). source: the input file to
    start from (None: a new, empty database).
    """
    if settings.get("backend", "duckdb") != "duckdb":
        with open_database({"database": dict(settings)}, ".") as db:
            yield db
        return
    if output is None:
        raise DatabaseError("a DuckDB rule needs its database file as an output (`db`)")
    with atomic_path(output) as tmp:
        if source is not None:
            shutil.copyfile(source, tmp)
        else:
            tmp.unlink()  # DuckDB creates the file; an empty one is not a database
        where = {**settings, "path": str(tmp), "shown_as": str(output)}
        with open_database({"database": where}, Path(tmp).parent) as db:
            yield db
            db.execute("CHECKPOINT")  # everything into the file: no write-ahead log left
        wal = Path(f"{tmp}.wal")
        if wal.exists():
            raise DatabaseError(f"{wal} left behind: the database file is not complete")


def output_file(names: Any, key: str) -> str | None:
    """A rule's named input or output as a plain path, or None where the rule has none."""
    value = names.get(key)
    return None if value is None else str(value)
