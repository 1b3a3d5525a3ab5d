"""The README's own-data commands, taken from README.md and run as written, on the real sample.

The checkout is mirrored (its files linked) into a temporary folder beside a
`shared/` folder, as the README assumes (`../shared/data`), so that the run
writes its results/ and .snakemake/ there and not into the repository. The
make command runs the whole pipeline; then the Snakemake form, which must be
the very same run ("Nothing to be done"), and `stratopt answer`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from workflow_helpers import REPO

README = REPO / "README.md"
SAMPLE = "../shared/data/sensex_real_sample_500.csv"
DATASET = "sensex_real_sample_500"  # named after the input by default
LATER_STAGES = ("load_db", "validate", "prepare", "correlation_shard", "optimize", "select")
LEFT_OUT = {"results", ".snakemake", "test-artifacts", ".pytest_cache", ".ruff_cache"}


def readme_command(start: str) -> str:
    """The one line of README.md's shell blocks that starts with `start` and names the sample."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    found = [line for line in lines if line.startswith(start) and SAMPLE in line]
    assert len(found) == 1, f"README.md should show one `{start} ... {SAMPLE}` line: {found}"
    return found[0]


def mirror_checkout(tmp: Path, shared_data: Path) -> Path:
    """tmp/checkout (every entry of the repository, linked) beside tmp/shared/data."""
    if not (REPO / ".venv" / "bin" / "snakemake").exists():
        pytest.skip("no .venv in the checkout: the README's commands run `make setup` first")
    checkout = tmp / "checkout"
    checkout.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in LEFT_OUT:
            (checkout / entry.name).symlink_to(entry)
    (tmp / "shared").mkdir()
    (tmp / "shared" / "data").symlink_to(shared_data.resolve())
    return checkout


def run(command: str, cwd: Path) -> str:
    """The command through bash, as a user types it; stdout and stderr in one stream, in order."""
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=840,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == 0, f"{command} failed ({proc.returncode}):\n{proc.stdout[-8000:]}"
    return proc.stdout


@pytest.mark.slow
def test_the_readme_runs_on_the_real_sample(tmp_path: Path, real_sample_csv: Path) -> None:
    checkout = mirror_checkout(tmp_path, real_sample_csv.parent)
    out = run(readme_command("make run INPUT="), checkout)
    results = checkout / "results" / DATASET
    ingest = json.loads((results / "ingest.json").read_text())
    assert ingest["rows"] == 82 and ingest["strategies"] == 500

    # what was read, on the terminal before any later stage starts, and in the ingest log
    shown = out.index(f"What stratopt read from {SAMPLE} (758,865 bytes)")
    block = out[shown : shown + 800]
    assert "sessions (rows)    82, 2024-01-04 .. 2025-07-21" in block
    assert "weekdays           Thursday 46, Monday 27, Wednesday 7, Friday 2" in block
    assert "strategies         500" in block and "periods per year   52.5" in block
    assert "blank cells        none" in block and "warnings           none" in block
    starts: dict[str, int] = {}  # each rule's first job
    for m in re.finditer(r"^(local)?rule (\w+):$", out, re.M):
        starts.setdefault(m.group(2), m.start())
    assert starts["ingest"] < shown
    # 500 strategies: every later stage runs in the one chain job (chain.mode auto), else
    # each in its own job; either way, after the summary was shown
    later = ("chain",) if "chain" in starts else LATER_STAGES
    assert all(starts[stage] > shown for stage in later), starts
    assert "periods per year   52.5" in (results / "logs" / "ingest.log").read_text()

    # the answer, last: the pick select made, the verdict of validate, files that exist
    summary = json.loads((results / "summary.json").read_text())
    validation = json.loads((results / "validation.json").read_text())
    best = summary["best_overall"]
    assert best["size"] == validation["recommended_size"] and 35 <= best["size"] <= 37
    answer = out[out.rindex(f"The answer (results/{DATASET}):") :]
    assert f"{best['size']} strategies, found by {best['algorithm'].upper()}" in answer
    assert f"guarded fitness {best['guarded_fitness']:,.2f}" in answer
    first_words = " ".join(validation["verdict"].split()[:6])
    assert first_words in " ".join(answer.split())
    paths = re.findall(rf"(results/{DATASET}/[^\s)]+)", answer)
    assert paths[0] == f"results/{DATASET}/report.html"
    assert f"results/{DATASET}/portfolios/best_portfolio_size{best['size']}.txt" in paths
    assert all((checkout / p).exists() for p in paths), paths
    html = (results / "report.html").read_text()
    assert "synth_seed" not in html and "₹" in html  # a real file: no twin settings

    # the Snakemake form of the README is the same run: nothing left to do
    again = run(readme_command(".venv/bin/snakemake "), checkout)
    assert "Nothing to be done" in again
    # and the answer is there after the fact
    after = run(f".venv/bin/stratopt answer results/{DATASET}", checkout)
    assert after.strip() == answer.split("Complete log(s)")[0].strip()
