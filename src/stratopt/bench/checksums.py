"""`stratopt bench checksums FILE...`: what Parquet page checksums cost on write and read.

For each stratopt matrix file (matrix.parquet, prepared.parquet), in fresh
child processes, alternately and `--repeats` times: write it (zstd) with and
without page checksums, and read it back into the T x N matrix with and
without verifying them. Only the write or the read is timed (the table is
built, or the file written, before the clock starts). Medians, and the ratio
with / without measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

MODES = ("off", "on")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "checksums", help="Parquet page checksums: write/read time of matrix files with and without"
    )
    parser.add_argument("files", type=Path, nargs="+", help="matrix.parquet / prepared.parquet")
    parser.add_argument(
        "--repeats", type=int, default=7, help="child runs of each write and read (median)"
    )
    parser.set_defaults(func=_run)


def write(source: str, out: str, checksums: bool) -> Callable[[], None]:
    """Set-up: read `source` into an Arrow table; timed: write it to `out`."""
    import pyarrow.parquet as pq

    from stratopt.data.matrix import read_matrix, to_arrow

    table = to_arrow(read_matrix(source))

    def timed() -> None:
        pq.write_table(table, out, compression="zstd", write_page_checksum=checksums)

    return timed


def read(source: str, checksums: bool) -> Callable[[], None]:
    """Set-up: imports; timed: `source` -> T x N float64 (verifying the checksums or not)."""
    import pyarrow.parquet as pq

    from stratopt.data.matrix import from_arrow

    def timed() -> None:
        with pq.ParquetFile(source, page_checksum_verification=checksums) as pf:
            from_arrow(pf.read(use_threads=False), source)

    return timed


def _run(args: argparse.Namespace) -> int:
    from stratopt.bench.timing import run_stage

    rows = []
    with tempfile.TemporaryDirectory(prefix="stratopt-crc-") as tmp:
        for source in args.files:
            stem = source.name
            copies = {}
            for mode in MODES:  # the file to read, written each way once
                copies[mode] = str(Path(tmp) / f"{mode}-{stem}")
                run_stage(f"{__name__}:write", _kw(source, copies[mode], mode))
            samples: dict[str, list] = {f"{op} {m}": [] for op in ("write", "read") for m in MODES}
            for _ in range(args.repeats):
                for mode in MODES:
                    out = str(Path(tmp) / f"w-{mode}-{stem}")
                    samples[f"write {mode}"].append(
                        run_stage(f"{__name__}:write", _kw(source, out, mode))
                    )
                    samples[f"read {mode}"].append(
                        run_stage(
                            f"{__name__}:read",
                            {"source": copies[mode], "checksums": mode == "on"},
                        )
                    )
            rows.append((stem, {k: _median(v) for k, v in samples.items()}))
    print(f"medians of {args.repeats} runs each, child processes, only the write/read timed")
    print(
        f"{'file':<18} {'op':<6} {'off wall/cpu s':>16} {'on wall/cpu s':>16} "
        f"{'on/off cpu':>11} {'peak MB off/on':>16}"
    )
    for stem, med in rows:
        for op in ("write", "read"):
            off, on = med[f"{op} off"], med[f"{op} on"]
            print(
                f"{stem:<18} {op:<6} {off[0]:>7.4f}/{off[1]:<8.4f} {on[0]:>7.4f}/{on[1]:<8.4f}"
                f" {on[1] / off[1] if off[1] else float('nan'):>10.3f}x"
                f" {off[2]:>7.1f}/{on[2]:<8.1f}"
            )
    return 0


def _kw(source: Path, out: str, mode: str) -> dict:
    return {"source": str(source), "out": out, "checksums": mode == "on"}


def _median(samples: list) -> tuple[float, float, float]:
    return (
        statistics.median(s.wall_s for s in samples),
        statistics.median(s.cpu_s for s in samples),
        statistics.median(s.peak_rss_mb for s in samples),
    )
