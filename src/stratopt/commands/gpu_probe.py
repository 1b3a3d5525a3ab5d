"""`stratopt gpu-probe OUT`: record what this process sees of its GPU allocation."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "gpu-probe",
        help="write a JSON record of the GPU allocation seen here (CUDA_VISIBLE_DEVICES, SLURM)",
    )
    parser.add_argument("out", type=Path, help="JSON file to write")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.engine.gpu_probe import write_probe

    report = write_probe(args.out)
    env = report["environment"]
    print(
        f"{args.out}: host {report['hostname']}, "
        f"CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']}, "
        f"SLURM_JOB_ID={env['SLURM_JOB_ID']}, CuPy usable: {report['cupy']['usable']}"
    )
    return 0
