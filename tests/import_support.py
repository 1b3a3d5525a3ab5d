"""What importing some modules pulls in, measured in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable


def packages_imported(modules: Iterable[str], among: Iterable[str]) -> list[str]:
    """The top-level packages of `among` that importing `modules` loads (sorted)."""
    return packages_after(f"import {', '.join(modules)}", among)


def packages_after(code: str, among: Iterable[str]) -> list[str]:
    """The top-level packages of `among` loaded once `code` has run (sorted)."""
    report = (
        "\nimport json as _json, sys as _sys\n"
        f"print(_json.dumps(sorted({{m.split('.')[0] for m in _sys.modules}} & {set(among)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code + report], capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))
