"""Rule `report`: the run report, written in the results folder it describes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.report.render import write_report


def run(smk: Any) -> None:
    """The configuration shown is the rule's param (rule_params.report: all but profiling)."""
    out = Path(str(smk.output[0]))
    write_report(out.parent, out, dict(smk.params.config))
