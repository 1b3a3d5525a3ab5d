"""Publishing the staged ingest outputs (stratopt.runtime.staging)."""

from __future__ import annotations

import os
from pathlib import Path

from stratopt.runtime.staging import publish


def _staged(tmp_path: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    stage = tmp_path / "ingest" / "abc"
    stage.mkdir(parents=True)
    staged = {"matrix": stage / "matrix.parquet", "report": stage / "ingest.json"}
    staged["matrix"].write_bytes(b"PAR1 the matrix PAR1")
    staged["report"].write_text('{"rows": 82}\n')
    return staged, {"matrix": tmp_path / "matrix.parquet", "report": tmp_path / "ingest.json"}


def test_published_files_hold_the_staged_bytes(tmp_path: Path) -> None:
    staged, published = _staged(tmp_path)
    publish(staged, published)
    for key in staged:
        assert published[key].read_bytes() == staged[key].read_bytes()
    publish(staged, published)  # again, over the published files
    assert published["report"].read_text() == '{"rows": 82}\n'


def test_touching_the_outputs_in_turn_never_makes_an_input_newer(tmp_path: Path) -> None:
    # What Snakemake does after publish_ingest: touch each output in order, then check
    # that no output is older than the newest input. With hard links an output was
    # an input too, and a clock tick between the touches failed the run ("clock skew").
    staged, published = _staged(tmp_path)
    publish(staged, published)
    for order in (["matrix", "report"], ["report", "matrix"]):
        base = max(p.stat().st_mtime_ns for p in staged.values()) + 10**9
        for k, key in enumerate(order):
            t = base + k * 10**6  # one tick later than the touch before
            os.utime(published[key], ns=(t, t))
        newest_input = max(p.stat().st_mtime_ns for p in staged.values())
        assert all(p.stat().st_mtime_ns >= newest_input for p in published.values()), order
        assert not any(published[k].samefile(staged[k]) for k in staged)
