"""What a job sees of its GPU allocation: a diagnostic for cluster runs.

On SLURM a rule declaring `resources: gpu=1` becomes `sbatch --gpus=1`; this
records what the job then saw (the variables SLURM sets for the GPU GRES,
the host, whether CuPy can use a device), so that a GPU request can be
checked end to end, on a test cluster or on the user's own.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.errors import ConfigError
from stratopt.runtime.atomic import write_json

#: Environment variables that show a job's scheduler and GPU allocation.
PROBED_VARIABLES = (
    "CUDA_VISIBLE_DEVICES",
    "GPU_DEVICE_ORDINAL",
    "SLURM_JOB_ID",
    "SLURM_STEP_ID",
    "SLURM_JOB_GPUS",
    "SLURM_STEP_GPUS",
    "SLURM_GPUS_ON_NODE",
    "SLURM_JOB_NODELIST",
    "SLURM_CPUS_PER_TASK",
    "SLURM_MEM_PER_NODE",
)


def cupy_status() -> dict[str, Any]:
    """Whether CuPy is importable and sees a CUDA device, and why not."""
    from stratopt.engine.backend import cupy_module

    try:
        cupy = cupy_module()
    except ConfigError as exc:
        return {"usable": False, "reason": str(exc)}
    count = int(cupy.cuda.runtime.getDeviceCount())
    names = []
    for index in range(count):
        props = cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"]
        names.append(name.decode() if isinstance(name, bytes) else str(name))
    return {"usable": count > 0, "device_count": count, "devices": names}


def probe() -> dict[str, Any]:
    """A snapshot of the allocation this process runs in."""
    return {
        "hostname": socket.gethostname(),
        "environment": {name: os.environ.get(name) for name in PROBED_VARIABLES},
        "cupy": cupy_status(),
    }


def write_probe(path: str | os.PathLike[str]) -> dict[str, Any]:
    report = probe()
    write_json(Path(path), contracts.GPU_PROBE.checked(report))
    return report
