"""What importing some modules pulls in, measured in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable


def packages_imported(modules: Iterable[str], among: Iterable[str]) -> list[str]:
    """The top-level packages of `among` that importing `modules` loads (sorted)."""
    code = (
        f"import json, sys; import {', '.join(modules)}; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(among)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out))
