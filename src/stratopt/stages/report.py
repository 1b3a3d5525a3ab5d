"""Rule `report`: the run report, its self-contained copy and the profiles for `snakemake --report`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.report.entries import profile_entries
from stratopt.report.render import write_report


def run(smk: Any) -> None:
    """The configuration shown is the rule's param (rule_params.report: all but profiling)."""
    out = Path(str(smk.output.html))
    write_report(out.parent, out, dict(smk.params.config), standalone_path=smk.output.standalone)
    profile_entries(out.parent, smk.output.flamegraphs, smk.output.speedscope)
