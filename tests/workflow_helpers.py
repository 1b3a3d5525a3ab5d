"""Running the real Snakemake command line against the repository's workflow."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Keys of the result files that hold measured wall-clock time: two runs differ there.
MEASURED_KEYS = frozenset({"seconds", "shard_seconds"})


def prepare_workdir(tmp: Path) -> Path:
    """A working directory with the repository's config/ (configfile resolves against it)."""
    shutil.copytree(REPO / "config", tmp / "config", dirs_exist_ok=True)
    return tmp


def snakemake(
    workdir: Path, *args: str, timeout: int = 900, check: bool = True
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def small_config_args(sample_csv: Path, dataset: str = "small") -> list[str]:
    """The CI workload (.test/config) on the real sample, by absolute path."""
    return [
        "--configfile",
        str(REPO / ".test" / "config" / "config.yaml"),
        "--config",
        f"dataset={dataset}",
        f"input={{'source': '{sample_csv}'}}",
    ]


def without_measured(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: without_measured(v) for k, v in obj.items() if k not in MEASURED_KEYS}
    if isinstance(obj, list):
        return [without_measured(v) for v in obj]
    return obj


def comparable(name: str, data: bytes) -> object:
    """A result file's content as two runs must agree on it: measured seconds left out of
    JSON documents and of Parquet metadata; a Parquet file's table as Arrow IPC bytes
    (its types and values exactly, NaN included, apart from the file's encoding)."""
    if name.endswith(".json"):
        return without_measured(json.loads(data))
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        meta = {}
        for key, value in (table.schema.metadata or {}).items():
            try:
                meta[key] = without_measured(json.loads(value))
            except ValueError:
                meta[key] = value
        plain = table.replace_schema_metadata(None)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, plain.schema) as writer:
            writer.write_table(plain)
        return sink.getvalue().to_pybytes(), meta
    return data
