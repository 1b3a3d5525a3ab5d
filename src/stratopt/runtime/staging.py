"""Staged ingest outputs: a failed ingest never takes the last good matrix with it.

Snakemake deletes a failed job's outputs, and records the failed job's
metadata as if it had run; a small source that failed then looks ingested.
So the pipeline's ingest rule writes into results/{dataset}/ingest/{stamp}/,
where the stamp names the source as it is now (its files' names, sizes and
modification times), and `publish_ingest` hard-links the staged files into
place as matrix.parquet and ingest.json:

- a failed ingest loses only its own staged files; the published ones stay;
- a changed source is a new stamp, so publish_ingest's input changes and
  Snakemake reruns ingest (and everything after it) whatever the target,
  until the source reads cleanly;
- a hard link costs no space; published and staged are the same bytes.

Standard library only: the Snakefile computes the stamp when it is parsed.
"""

from __future__ import annotations

import hashlib
import logging
import os
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
    """Put each staged file in place as a hard link (a copy across file systems), atomically."""
    for key, src in staged.items():
        with atomic_path(published[key]) as tmp:
            tmp.unlink()
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copy2(src, tmp)


def prune_stages(current: Path) -> list[Path]:
    """Remove the staging folders of earlier sources beside `current` (not in the DAG any more)."""
    removed = []
    for sibling in current.parent.iterdir():
        if sibling.is_dir() and sibling != current:
            shutil.rmtree(sibling)
            removed.append(sibling)
    return removed
