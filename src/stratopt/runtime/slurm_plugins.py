"""Where the SLURM executor plugins live: beside the environment, not in it.

Installed in the environment, snakemake-executor-plugin-slurm is imported by
every `snakemake` call (Snakemake collects all executor plugins at start-up)
and at import runs `scontrol show config`, which waits up to 10 s when SLURM's
client tools are installed and no controller answers (a laptop, a CI machine
after its test cluster stopped, a login node with a slow controller). So
`make slurm-plugins` installs the plugin and its job-step companion into
`<venv>/slurm-plugins/`, which is on the import path only for a cluster run:
`PYTHONPATH=<venv>/slurm-plugins snakemake --workflow-profile profiles/slurm`
(docs/hpc.md). SLURM exports the submitting environment to its jobs
(`--export=ALL`), so the job steps find the plugin too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: The overlay folder: STRATOPT_SLURM_PLUGINS, else slurm-plugins/ in the running environment.
ENV_VAR = "STRATOPT_SLURM_PLUGINS"


def plugin_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or Path(sys.prefix) / "slurm-plugins")


def slurm_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default os.environ) with the plugin folder first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    parts = [str(plugin_dir()), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def plugin_problem() -> str | None:
    """Why `snakemake --executor slurm` would not find the plugin, or None when it would."""
    probe = "import snakemake_executor_plugin_slurm, snakemake_executor_plugin_slurm_jobstep"
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=slurm_env(), capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0:
        return (
            f"the SLURM executor plugins are not installed in {plugin_dir()} "
            "(run `make slurm-plugins`)"
        )
    return None
