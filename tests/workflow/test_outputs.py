"""A real run's outputs: each against its contract, and `snakemake --report` of the run.

Both read the CI workload's run of conftest.py (every rule profiled).
"""

from __future__ import annotations

import json
import posixpath
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pytest

from stratopt import contracts as C
from stratopt.data.matrix import check_parquet
from stratopt.report.collect import collect
from workflow_helpers import snakemake

#: Outputs this run does not write: the benchmark and the GPU probe are not in `all`.
NOT_IN_THIS_RUN = {C.BENCH, C.BENCH_MD, C.GPU_PROBE}


@pytest.mark.slow  # the whole CI pipeline through Snakemake (small_run)
def test_every_output_of_a_real_run_fits_its_contract(small_run: tuple[Path, list[str]]) -> None:
    work, _ = small_run
    results = work / "results" / "small"
    checked: dict[str, int] = {}
    for output in C.ALL:
        found = output.glob(results)
        if output in NOT_IN_THIS_RUN:
            assert found == [], output.name
            continue
        assert found, f"{output.name}: not written by the run"
        for path in found:
            if output.json is not None:
                output.read_json_at(path)  # ContractError names the file and the key
            elif output.columns:
                check_parquet(output, path)
        checked[output.name] = len(found)
    assert checked[C.RUN.name] == 8 and checked[C.CORRELATION_SHARD.name] == 2
    assert checked[C.CHECKPOINT.name] == 8 * 4  # eight algorithms, sizes 5..8
    # and the report read every section through them, none broken
    data = collect(results)
    assert data.broken == [] and data.notes == []
    assert data.success["finished"] == data.success["expected"] == 9


class _Links(HTMLParser):
    """Every href and src of a page, and its element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def _entries(index_html: str) -> dict[str, dict]:
    """The report's entries as Snakemake embeds them in its report.html."""
    found = re.search(r'<script id="results">\s*var results = (.*?);\s*</script>', index_html, re.S)
    assert found, "no results in Snakemake's report.html"
    return json.loads(found.group(1))


@pytest.mark.slow  # the whole CI pipeline through Snakemake (small_run), then snakemake --report
def test_snakemake_report_is_self_contained(
    small_run: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Each figure its own entry with a caption; every link of every HTML entry resolves."""
    work, args = small_run
    results = work / "results" / "small"
    archive = tmp_path / "run.zip"
    snakemake(work, *args, "--report", str(archive))
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        index = next(n for n in names if n.endswith("/report.html") and n.count("/") == 1)
        root = PurePosixPath(index).parent
        entries = _entries(z.read(index).decode("utf-8"))
        pages = {}
        for source, entry in entries.items():
            member = str(root / entry["data_uri"])
            assert member in names, f"{source}: {member} is not in the zip"
            caption = re.sub(r"<[^>]+>", " ", entry["caption"])
            assert len(caption.split()) >= 20, f"{source}: no caption worth the name"
            if entry["mime_type"] == "text/html":
                pages[member] = z.read(member).decode("utf-8")
    # every figure that exists as a file is an entry: the profiles and select's pictures
    # (but the report job's own profile, written once that job has finished)
    by_source = {Path(s).name: e for s, e in entries.items()}
    own = {C.PROFILE_SVG.file_name(job="report"), C.PROFILE_SPEEDSCOPE.file_name(job="report")}
    profiled = [p.name for p in C.PROFILE_SVG.glob(results)]
    assert {"ingest.svg", "optimize.svg", "select.svg"} <= set(profiled)
    pictures = [p.name for p in C.LEGACY_DIR.path(results).glob("*.png")]
    assert len(pictures) == 4 * 2  # sizes 5..8, two pictures each
    figures = profiled + [p.name for p in C.PROFILE_SPEEDSCOPE.glob(results)] + pictures
    assert sorted(set(figures) - own - set(by_source)) == []
    caption = by_source["optimize.svg"]["caption"]
    assert "optimize" in caption and "flamegraph" in caption
    assert "size <strong>7</strong>" in by_source["drawdown_size7.png"]["caption"]
    assert by_source["drawdown_size7.png"]["labels"] == {"size": "7", "figure": "drawdown"}
    # the run report's copy: no link leaves the page (profiles are entries of their own)
    assert list(pages) == [str(root / by_source["run_report.html"]["data_uri"])]
    for member, html in pages.items():
        parser = _Links()
        parser.feed(html)
        assert parser.links, member
        for link in parser.links:
            if link.startswith("data:"):
                continue
            if link.startswith("#"):
                assert link[1:] in parser.ids, f"{member}: {link} names no element"
                continue
            target = posixpath.normpath(str(PurePosixPath(member).parent / link))
            assert target in names, f"{member}: {link} does not resolve inside the zip"
        assert "hottest frames" in html  # the profiled stages, without their files
