"""What `snakemake --report` shows beside the run report: each profile as its own entry.

Snakemake's report includes only files a rule flags with report(); the
profiles under profiles/ are written by every rule as it runs (profiling is
switched by the environment, so it forces no rerun) and belong to no rule.
The report rule therefore links (or copies) them into two folders of its
own, whose files become entries with a caption each (workflow/rules/report.smk).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from stratopt import contracts as C

log = logging.getLogger(__name__)


def _place(src: Path, folder: Path) -> None:
    """A hard link to `src` in `folder` (a copy across file systems)."""
    dst = folder / src.name
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def profile_entries(results: str | Path, flamegraphs: str | Path, speedscope: str | Path) -> int:
    """Every profiles/*.svg into `flamegraphs`, every .speedscope.json into `speedscope`.

    Both folders are created (empty when nothing was profiled); returns the
    number of files placed.
    """
    placed = 0
    for output, folder in ((C.PROFILE_SVG, flamegraphs), (C.PROFILE_SPEEDSCOPE, speedscope)):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for path in output.glob(results):
            _place(path, folder)
            placed += 1
    log.info("report entries: %d profile file(s) for snakemake --report", placed)
    return placed
