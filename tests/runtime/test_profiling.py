"""Profiling a stage under py-spy: the switch, the child process, the two files."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stratopt.runtime.context import NamedList, RuleContext, plain_namedlist
from stratopt.runtime.flamegraph import render_svg
from stratopt.runtime.profiling import (
    StageFailed,
    attach,
    profile_stem,
    profiles_dir,
    profiling_enabled,
    profiling_mode,
    run_profiled,
)
from stratopt.runtime.rule import run_rule
from stratopt.runtime.stackprofile import from_speedscope, hottest_frames, parse_raw, to_speedscope

RAW = (
    "<module> (job.py:1);main (job.py:9);work (job.py:4) 30\n"
    "<module> (job.py:1);main (job.py:9);io (job.py:6) 10\n"
    "<module> (job.py:1);main (job.py:9) 5\n"
    # a process frame whose command line spans two lines, as py-spy writes it
    'process 42:"python -c \nprint(1)";<module> (<string>:1) 5\n'
)


def test_parse_raw_merges_multiline_process_frames() -> None:
    prof = parse_raw(RAW, rate=100.0, name="t")
    assert prof.samples == 50
    assert prof.seconds == pytest.approx(0.5)
    roots = {stack[0] for stack, _ in prof.stacks}
    assert "process: python -c print(1)" in roots  # pid dropped, newline folded


def test_parse_raw_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="malformed"):
        parse_raw("a;b;c no-count-here\n")


def test_speedscope_round_trip_and_hot_frames() -> None:
    prof = parse_raw(RAW, rate=100.0, name="t")
    doc = to_speedscope(prof)
    assert doc["profiles"][0]["type"] == "sampled"
    assert sum(doc["profiles"][0]["weights"]) == pytest.approx(0.5)
    assert {"name": "work", "file": "job.py", "line": 4} in doc["shared"]["frames"]
    back = from_speedscope(json.loads(json.dumps(doc)))
    assert sorted(back.stacks) == sorted(prof.stacks)
    hot = hottest_frames(back, top=3)
    assert hot[0]["frame"] == "work (job.py:4)"
    assert hot[0]["self_pct"] == pytest.approx(60.0)
    assert hot[0]["total_pct"] == pytest.approx(60.0)
    main = next(h for h in hottest_frames(back, top=10) if h["frame"].startswith("main"))
    assert main["total_pct"] == pytest.approx(90.0)
    assert all(not h["frame"].startswith("process:") for h in hot)


def test_flamegraph_svg_is_valid_xml_and_escapes_names() -> None:
    raw = "<module> (a.py:1);<script>alert(1)</script> (b.py:2) 7\n<module> (a.py:1) 3\n"
    svg = render_svg(parse_raw(raw, rate=100.0), title="x & y")
    root = ET.fromstring(svg)  # raises on anything not well-formed
    titles = [el.text for el in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any("<script>alert(1)</script>" in (t or "") for t in titles)
    assert "<script>" not in svg


def test_switch_from_config_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRATOPT_PROFILE", raising=False)
    assert not profiling_enabled({})
    assert not profiling_enabled({"profiling": {"enabled": False}})
    assert profiling_enabled({"profiling": {"enabled": True}})
    monkeypatch.setenv("STRATOPT_PROFILE", "1")
    assert profiling_enabled({"profiling": {"enabled": False}})
    monkeypatch.setenv("STRATOPT_PROFILE", "0")
    assert not profiling_enabled({})


def test_profile_names() -> None:
    assert profile_stem("ingest") == "ingest"
    assert profile_stem("optimize", {"algorithm": "ga", "chunk": "35-50"}) == "optimize-ga-35-50"
    assert profile_stem("x", {"w": "a/b c"}) == "x-a_b_c"
    assert profiles_dir({"dataset": "twin"}) == Path("results/twin/profiles")


def test_rule_context_is_a_picklable_namedlist_copy() -> None:
    ctx = RuleContext(
        rule="r",
        input=NamedList(["a.csv", "b.csv", "c.csv"], {"first": 0, "rest": (1, 3)}),
        output=plain_namedlist({"matrix": "m.parquet"}),
        wildcards=plain_namedlist({"shard": "3"}),
        config={"dataset": "d"},
    )
    back = pickle.loads(pickle.dumps(ctx))
    assert back.input.first == "a.csv" and back.input["rest"] == ["b.csv", "c.csv"]
    assert back.input[2] == "c.csv" and list(back.input.keys()) == ["first", "rest"]
    assert back.output.matrix == "m.parquet" and back.wildcards.get("shard") == "3"
    assert back.params.get("missing", 5) == 5
    with pytest.raises(AttributeError):
        _ = back.input.nope


def test_rule_context_copies_a_snakemake_namedlist() -> None:
    from snakemake.iocontainers import InputFiles  # the real container a script receives

    files = InputFiles(["x.parquet", "y.json"])
    files._set_name("matrix", 0)
    files._set_name("report", 1)
    plain = plain_namedlist(files)
    assert plain.matrix == "x.parquet" and plain.report == "y.json"
    assert type(plain[0]) is str


def _ingest_ctx(tmp_path: Path, source: Path, *, config: dict | None = None) -> RuleContext:
    out = tmp_path / "results" / "p"
    return RuleContext(
        rule="ingest",
        input=NamedList([str(source)]),
        output=plain_namedlist(
            {"matrix": str(out / "matrix.parquet"), "report": str(out / "ingest.json")}
        ),
        log=NamedList([str(out / "logs" / "ingest.log")]),
        config=config or {"dataset": "p"},
    )


@pytest.mark.skipif(
    shutil.which("py-spy") is None and not Path(sys.executable).with_name("py-spy").exists(),
    reason="py-spy not installed",
)
def test_run_rule_profiles_the_real_ingest_stage(
    tmp_path: Path, real_sample_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratopt.data.matrix import read_matrix
    from stratopt.stages.ingest import run as ingest_rule

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATOPT_PROFILE", "1")
    # ingest of the sample takes tens of milliseconds: sample densely so that a
    # loaded machine still leaves samples in the profile
    ctx = _ingest_ctx(
        tmp_path, real_sample_csv, config={"dataset": "p", "profiling": {"rate": 1000}}
    )
    run_rule(ctx, ingest_rule)
    out = tmp_path / "results" / "p"
    assert read_matrix(out / "matrix.parquet").shape == (82, 500)  # the stage really ran
    svg = out / "profiles" / "ingest.svg"
    ET.parse(svg)
    doc = json.loads((out / "profiles" / "ingest.speedscope.json").read_text())
    prof = from_speedscope(doc)
    assert prof.samples > 0
    frames = " ".join(f for stack, _ in prof.stacks for f in stack)
    assert "ingest" in frames  # the stage's own code was sampled, not just the launcher
    log = (out / "logs" / "ingest.log").read_text()
    assert "profiling under py-spy" in log and "ingested 82 days" in log and "done" in log
    assert "mode attach" in log or "mode launch" in log  # the log says which mode ran


HAS_PY_SPY = shutil.which("py-spy") is not None or Path(sys.executable).with_name("py-spy").exists()
needs_py_spy = pytest.mark.skipif(not HAS_PY_SPY, reason="py-spy not installed")


def _attach_allowed(tmp_path: Path) -> bool:
    """Whether py-spy may attach to this very process here (ptrace allowed)."""
    recorder, _ = attach(100, tmp_path / "probe.raw")
    if recorder is None:
        return False
    recorder.stop()
    return True


@needs_py_spy
def test_launch_mode_on_request(
    tmp_path: Path, real_sample_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratopt.stages.ingest import run as ingest_rule

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATOPT_PROFILE", "1")
    monkeypatch.setenv("STRATOPT_PROFILE_MODE", "launch")
    run_rule(_ingest_ctx(tmp_path, real_sample_csv), ingest_rule)
    out = tmp_path / "results" / "p"
    log = (out / "logs" / "ingest.log").read_text()
    assert "mode launch" in log and "mode attach" not in log
    assert from_speedscope(json.loads((out / "profiles" / "ingest.speedscope.json").read_text()))
    assert "ingested 82 days" in log  # written by the child into the shared log


@needs_py_spy
def test_attach_mode_profiles_in_process_and_keeps_the_profile_of_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratopt.stages.ingest import run as ingest_rule

    if not _attach_allowed(tmp_path):
        pytest.skip("ptrace is refused here: py-spy cannot attach (launch mode covers it)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATOPT_PROFILE", "1")
    monkeypatch.setenv("STRATOPT_PROFILE_MODE", "attach")
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Day,A\n2024-01-04,Thursday,oops\n")
    with pytest.raises(SystemExit):  # a clean failure of the rule, its reason logged
        run_rule(_ingest_ctx(tmp_path, bad), ingest_rule)
    out = tmp_path / "results" / "p"
    assert not (out / "matrix.parquet").exists()
    ET.parse(out / "profiles" / "ingest.svg")
    log = (out / "logs" / "ingest.log").read_text()
    assert f"mode attach (py-spy attached to pid {__import__('os').getpid()})" in log
    assert "Samples:" in log  # py-spy's own closing figures
    assert "non-numeric cell 'oops'" in log


@pytest.mark.slow  # a profiled optimize run (py-spy samples: a loaded machine takes fewer)
@needs_py_spy
def test_attached_py_spy_follows_the_worker_pool_only_when_there_is_one(
    tmp_path: Path, real_sample_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """threads > 1 (the optimize pool): py-spy follows the workers; threads 1: one process."""
    from stratopt.stages.ingest import run as ingest_rule
    from stratopt.stages.optimize import run as optimize_rule

    if not _attach_allowed(tmp_path):
        pytest.skip("ptrace is refused here: py-spy cannot attach")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATOPT_PROFILE", "1")
    config = {
        "dataset": "p",
        "optimize": {
            # long enough (540,000 evaluations) for py-spy to find and sample the pool's
            # workers on a fast machine: at 54,000 a run ended in 0.2 s, before it did
            "min_size": 5,
            "max_size": 10,
            "generations": 1500,
            "population": 60,
            "pool": "process",
        },
    }
    run_rule(_ingest_ctx(tmp_path, real_sample_csv, config=config), ingest_rule)
    out = tmp_path / "results" / "p"

    def nested_process_samples(threads: int) -> int:
        ctx = RuleContext(
            rule="optimize",
            input=NamedList([str(out / "matrix.parquet")]),
            output=NamedList([str(out / f"runs{threads}" / "ga.json")]),
            wildcards=plain_namedlist({"algorithm": "ga"}),
            params=plain_namedlist({"search": config["optimize"], "objective": {}}),
            log=NamedList([str(out / "logs" / f"optimize{threads}.log")]),
            config=config,
            threads=threads,
        )
        run_rule(ctx, optimize_rule)
        doc = json.loads((out / "profiles" / "optimize-ga.speedscope.json").read_text())
        prof = from_speedscope(doc)
        assert prof.samples > 0
        # py-spy nests a worker's stack under its parent's "process:" frame
        return sum(
            n for stack, n in prof.stacks if sum(f.startswith("process:") for f in stack) > 1
        )

    assert nested_process_samples(2) > 0
    assert nested_process_samples(1) == 0


@needs_py_spy
def test_attach_refused_gives_py_spys_reason(tmp_path: Path) -> None:
    """A process py-spy cannot profile (not a Python) is refused, with py-spy's words."""
    target = subprocess.Popen(["sleep", "30"])
    try:
        recorder, reason = attach(100, tmp_path / "x.raw", pid=target.pid)
    finally:
        target.kill()
        target.wait()
    assert recorder is None
    assert reason.startswith("Error") and "python" in reason.lower()
    assert not (tmp_path / "x.raw").exists()


def test_profiling_mode_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from stratopt.errors import ConfigError

    monkeypatch.delenv("STRATOPT_PROFILE_MODE", raising=False)
    assert profiling_mode() == "auto"
    monkeypatch.setenv("STRATOPT_PROFILE_MODE", "Launch")
    assert profiling_mode() == "launch"
    monkeypatch.setenv("STRATOPT_PROFILE_MODE", "ptrace")
    with pytest.raises(ConfigError, match="auto, attach, launch"):
        profiling_mode()


@pytest.mark.skipif(
    shutil.which("py-spy") is None and not Path(sys.executable).with_name("py-spy").exists(),
    reason="py-spy not installed",
)
def test_a_failing_profiled_stage_fails_and_still_leaves_its_profile(tmp_path: Path) -> None:
    from stratopt.stages.ingest import run as ingest_rule

    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Day,A\n2024-01-04,Thursday,oops\n")
    ctx = _ingest_ctx(tmp_path, bad)
    (tmp_path / "results" / "p" / "logs").mkdir(parents=True)
    with pytest.raises(StageFailed, match="InputError"):
        run_profiled(ctx, ingest_rule, out_dir=tmp_path / "prof", rate=200)
    assert not (tmp_path / "results" / "p" / "matrix.parquet").exists()
    assert (tmp_path / "prof" / "ingest.svg").exists()
    assert "Traceback" in (tmp_path / "results" / "p" / "logs" / "ingest.log").read_text()


def test_unpicklable_stage_is_a_clear_error(tmp_path: Path) -> None:
    from stratopt.errors import ConfigError

    ctx = RuleContext(rule="r")
    with pytest.raises(ConfigError, match="module-level"):
        run_profiled(ctx, lambda smk: None, out_dir=tmp_path)


@pytest.mark.slow
def test_snakemake_profiles_every_stage_and_includes_the_report(
    tmp_path: Path, repo: Path, real_sample_csv: Path
) -> None:
    """The real pipeline (ingest, report) under STRATOPT_PROFILE=1, then `snakemake --report`."""
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"dataset: e2e\ninput:\n  source: {real_sample_csv}\n"
        "correlation: {shards: 1}\n"
        "optimize: {algorithms: [rs], min_size: 3, max_size: 4, generations: 10, population: 10}\n"
    )
    base = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(repo / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(cfg),
        "--cores",
        "2",
    ]
    env = {**__import__("os").environ, "STRATOPT_PROFILE": "1"}
    run = subprocess.run(base, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results" / "e2e"
    for stage in ("ingest", "report"):
        assert (results / "profiles" / f"{stage}.svg").exists()
        assert (results / "profiles" / f"{stage}.speedscope.json").exists()
        assert (results / "benchmarks" / f"{stage}.tsv").exists()
    html = (results / "report.html").read_text()
    assert "ingest" in html and "flamegraph" in html
    # switching profiling off forces no rerun
    again = subprocess.run([*base, "-n"], capture_output=True, text=True, timeout=120)
    assert "Nothing to be done" in again.stdout + again.stderr
    snapshot = tmp_path / "snakemake-report.html"
    rep = subprocess.run(
        [*base, "--report", str(snapshot)], capture_output=True, text=True, timeout=300
    )
    assert rep.returncode == 0, rep.stderr[-3000:]
    assert snapshot.stat().st_size > 0
    assert "report.html" in snapshot.read_text(errors="replace")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SigCgt is Linux's /proc")
def test_py_spy_is_stopped_only_once_it_catches_sigint() -> None:
    """py-spy says it samples before it installs its Ctrl-C handler: a SIGINT in between
    killed it before it wrote anything. stop() waits for the handler (SigCgt)."""
    from stratopt.runtime.profiling import await_sigint_handler, catches_sigint

    assert catches_sigint(os.getpid()) is True  # Python's KeyboardInterrupt handler
    late = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "print('default', flush=True)\n"
        "time.sleep(0.4)\n"
        "signal.signal(signal.SIGINT, lambda *a: print('caught', flush=True))\n"
        "time.sleep(30)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", late], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "default"
        assert catches_sigint(child.pid) is False
        start = time.monotonic()
        await_sigint_handler(child.pid, 10.0)
        assert catches_sigint(child.pid) is True
        assert time.monotonic() - start < 5.0
        child.send_signal(signal.SIGINT)
        assert child.stdout.readline().strip() == "caught"  # handled, not killed
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
    assert catches_sigint(child.pid) is None  # gone: nothing to wait for
