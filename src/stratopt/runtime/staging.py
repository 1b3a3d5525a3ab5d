"""Staged ingest outputs: a failed ingest never takes the last good matrix with it.

Snakemake deletes a failed job's outputs, and records the failed job's
metadata as if it had run; a small source that failed then looks ingested.
So the pipeline's ingest rule writes into results/{dataset}/ingest/{stamp}/,
where the stamp names the source as it is now (its files' names, sizes and
modification times), and `publish_ingest` copies the staged files into
place as matrix.parquet and ingest.json:

- a failed ingest loses only its own staged files; the published ones stay;
- a changed source is a new stamp, so publish_ingest's input changes and
  Snakemake reruns ingest (and everything after it) whatever the target,
  until the source reads cleanly;
- published and staged are the same bytes, in files of their own: after a
  job Snakemake touches its outputs one by one and then checks that none is
  older than its newest input. Hard links (until 2026-12-01) made each
  published file one of the job's inputs too, so touching ingest.json made
  the staged ingest.json newer than the already touched matrix.parquet, and
  whenever the clock's tick fell between the two touches the run stopped
  with Snakemake's "clock skew" error (CI hit it in the zone-mode tests).
  The copy costs about 10 ms and the matrix's size on disk (16 MB on the twin).

Standard library only: the Snakefile computes the stamp when it is parsed.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path

from stratopt.runtime.atomic import atomic_path

log = logging.getLogger(__name__)


def source_stamp(source: str | Path) -> str:
    """A short tag of the source's identity: names, sizes and mtimes of its files.

    A folder is stamped by its entries (ingest reads the CSV/XLSX files in
    it); a missing source gets "missing" (Snakemake reports it missing).
    """
    path = Path(source)
    if not path.exists():
        return "missing"
    entries = sorted(path.iterdir()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for entry in entries:
        st = entry.stat()
        digest.update(f"{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def publish(staged: Mapping[str, str | Path], published: Mapping[str, str | Path]) -> None:
    """Put a copy of each staged file in place, atomically (a file of its own: see above)."""
    for key, src in staged.items():
        with atomic_path(published[key]) as tmp:
            shutil.copyfile(src, tmp)


def prune_stages(current: Path) -> list[Path]:
    """Remove the staging folders of earlier sources beside `current` (not in the DAG any more)."""
    removed = []
    for sibling in current.parent.iterdir():
        if sibling.is_dir() and sibling != current:
            shutil.rmtree(sibling)
            removed.append(sibling)
    return removed
