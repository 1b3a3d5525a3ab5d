"""Rule `report`: the run report, written in the results folder it describes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.report.render import write_report


def run(smk: Any) -> None:
    out = Path(str(smk.output[0]))
    write_report(out.parent, out, dict(smk.config))
