"""The pipeline submitted to a real SLURM through profiles/slurm.

Needs the single-node cluster of scripts/slurm/setup.sh (CI runs it first);
skips, saying why, when `sinfo` is missing or the cluster is not up. The
small workload (.test/config) runs twice, locally and on SLURM, plus the
gpu_probe rule (gpu=1); then one rule is forced on SLURM. Checks: every job
ran as a SLURM job (its kept job log and squeue's record), the results equal
the local run's bit for bit, the GPU request reached SLURM (TresPerJob) and
the job ran on the GPU GRES (CUDA_VISIBLE_DEVICES), and `-R rule` resubmits
only that rule and what depends on it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from stratopt.runtime.slurm_plugins import plugin_problem, slurm_env
from workflow_helpers import REPO, comparable, prepare_workdir

pytestmark = pytest.mark.slurm

#: Wall-clock limit per Snakemake run; `timeout -k` because a stuck
#: Snakemake ignores SIGTERM.
RUN_TIMEOUT_S = 300
DATASET = "slurmci"
#: Not compared: logs, benchmarks and profiles hold timings, report.html
#: embeds the measured stage timings (benchmarks/*.tsv), hpc/ holds the
#: probe's record of where it ran (local vs a SLURM job, by design), and a
#: DuckDB database file's bytes vary with the writer (its tables leave it
#: as the Parquet/CSV files, which are compared).
NOT_COMPARED = ("logs", "benchmarks", "profiles", "hpc", "report.html", "snakemake-report")
NOT_COMPARED_SUFFIXES = (".duckdb", ".duckdb.wal")
#: Measured wall-clock fields inside result files (JSON keys, and the same
#: keys in a Parquet file's JSON metadata): they differ on every run, so a
#: file that differs is compared again without them; nothing else is spared.
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
FINISHED = re.compile(r"Finished jobid: \d+ \(Rule: (\w+)\)")
LOCAL_RULE = re.compile(r"^localrule (\w+):", re.MULTILINE)
# The target rule (no action) and publish_ingest (`localrule: True`: it links the
# staged matrix into place, milliseconds of work not worth a queue wait)
SUBMIT_HOST_RULES = frozenset({"all", "publish_ingest"})


def cluster_problem() -> str | None:
    """Why the SLURM test cannot run here, or None when the cluster is up."""
    if shutil.which("sinfo") is None:
        return "sinfo not found: no SLURM here (scripts/slurm/setup.sh installs one, as root)"
    try:
        proc = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T %G"], capture_output=True, text=True, timeout=15
        )
    except subprocess.TimeoutExpired:
        return "sinfo timed out: the SLURM controller does not answer"
    if proc.returncode != 0:
        return f"SLURM cluster not up (sinfo: {proc.stderr.strip()}); run scripts/slurm/setup.sh"
    nodes = [line.split() for line in proc.stdout.splitlines() if line.strip()]
    usable = [n for n in nodes if n[0] in ("idle", "mixed", "allocated") and "gpu" in n[-1]]
    if not usable:
        return f"no idle SLURM node with a gpu GRES (sinfo: {proc.stdout.strip()!r}); run scripts/slurm/setup.sh"
    return None


@pytest.fixture(scope="module")
def cluster() -> None:
    problem = cluster_problem() or plugin_problem()
    if problem:
        pytest.skip(problem)


def workload_args(sample_csv: Path, tmp_path: Path) -> list[str]:
    """The CI workload (.test/config) on the real sample, plus the GPU probe."""
    overlay = tmp_path / "slurm-test.yaml"
    overlay.write_text(
        f"dataset: {DATASET}\ninput:\n  source: {json.dumps(str(sample_csv))}\n"
        "hpc:\n  gpu_probe: true\n"
    )
    return ["--configfiles", str(REPO / ".test" / "config" / "config.yaml"), str(overlay)]


def run_snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        "timeout",
        "-k",
        "15",
        str(RUN_TIMEOUT_S),
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    # the SLURM executor plugins live beside the environment (stratopt.runtime.slurm_plugins)
    # the legacy summary's Run ID and Date are the clock's unless this is set
    env = {**slurm_env(), "SOURCE_DATE_EPOCH": "1753547653"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    submitted = SUBMITTED.findall(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        # Leave nothing queued on the shared test cluster.
        ids = [job_id for job_id, _ in submitted]
        if ids:
            subprocess.run(["scancel", *ids], capture_output=True, timeout=30)
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}"
            f"{', timed out' if proc.returncode in (124, 137) else ''}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def run_on_slurm(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_snakemake(
        workdir,
        "--workflow-profile",
        str(REPO / "profiles" / "slurm"),
        # The test node has 2 CPUs: a group job must not ask for more.
        "--cores",
        "2",
        # Keep every job's log (the plugin deletes successful ones).
        "--slurm-keep-successful-logs",
        *args,
    )


def slurm_jobs(proc: subprocess.CompletedProcess[str]) -> dict[str, Path]:
    """SLURM job id -> its job log, as Snakemake reported the submissions."""
    return {job_id: Path(log) for job_id, log in SUBMITTED.findall(proc.stdout + proc.stderr)}


def finished_rules(proc: subprocess.CompletedProcess[str]) -> Counter[str]:
    """Jobs the submitting Snakemake saw finish, by rule."""
    return Counter(FINISHED.findall(proc.stdout + proc.stderr))


def rules_run_in(logs: list[Path]) -> Counter[str]:
    """Jobs executed inside SLURM job steps, by rule (from the job logs)."""
    counts: Counter[str] = Counter()
    for log in logs:
        counts.update(LOCAL_RULE.findall(log.read_text()))
    return counts


def squeue_states(job_ids: list[str]) -> dict[str, str]:
    proc = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", "%i %T"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(line.split() for line in proc.stdout.splitlines() if line.strip())


def scontrol_job(job_id: str) -> str:
    return subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, timeout=30, check=True
    ).stdout


def result_files(workdir: Path) -> dict[str, bytes]:
    """Every result file of the run, by path relative to results/{dataset}."""
    root = workdir / "results" / DATASET
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (
            path.is_file()
            and rel.parts[0] not in NOT_COMPARED
            and not path.name.endswith(NOT_COMPARED_SUFFIXES)
        ):
            files[str(rel)] = path.read_bytes()
    return files


def same_result(name: str, a: bytes, b: bytes) -> bool:
    """Bit for bit, or equal but for the measured wall-clock fields."""
    return a == b or comparable(name, a) == comparable(name, b)


def differing_results(expected: dict[str, bytes], got: dict[str, bytes]) -> list[str]:
    assert sorted(got) == sorted(expected), "the runs wrote different files"
    return [name for name in expected if not same_result(name, expected[name], got[name])]


def rule_graph(workdir: Path, args: list[str]) -> dict[str, set[str]]:
    """Rule -> the rules that consume its outputs (from `snakemake --rulegraph`)."""
    dot = run_snakemake(workdir, *args, "--rulegraph").stdout
    labels = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', dot, re.MULTILINE))
    graph: dict[str, set[str]] = {name: set() for name in labels.values()}
    for src, dst in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.MULTILINE):
        graph[labels[src]].add(labels[dst])
    return graph


def descendants(graph: dict[str, set[str]], rule: str) -> set[str]:
    seen: set[str] = set()
    todo = [rule]
    while todo:
        for child in graph[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def rule_to_force(graph: dict[str, set[str]]) -> str:
    """A pipeline rule with dependents, the cheapest such to rerun (fewest dependents)."""
    candidates = [r for r in graph if r not in ("all", "gpu_probe")]
    with_dependents = [r for r in candidates if descendants(graph, r) - {"all"}]
    pool = with_dependents or candidates
    return min(pool, key=lambda r: (len(descendants(graph, r)), r))


def assert_every_job_ran_on_slurm(proc: subprocess.CompletedProcess[str]) -> dict[str, Path]:
    jobs = slurm_jobs(proc)
    assert jobs, "no job was submitted to SLURM"
    finished = finished_rules(proc)
    for rule in SUBMIT_HOST_RULES:
        finished.pop(rule, None)
    assert set(LOCAL_RULE.findall(proc.stdout + proc.stderr)) <= SUBMIT_HOST_RULES, (
        "a rule ran on the submit host instead of SLURM"
    )
    for log in jobs.values():
        assert log.is_file(), f"SLURM job log missing: {log}"
    assert rules_run_in(list(jobs.values())) == finished, (
        "jobs finished by Snakemake and jobs run inside SLURM job steps differ"
    )
    states = squeue_states(list(jobs))
    assert states == dict.fromkeys(jobs, "COMPLETED"), f"SLURM job states: {states}"
    return jobs


def test_pipeline_on_slurm_matches_local_run(
    cluster: None, tmp_path: Path, real_sample_csv: Path
) -> None:
    args = workload_args(real_sample_csv, tmp_path)
    local = prepare_workdir(tmp_path / "local")
    run_snakemake(local, *args, "--cores", "2")
    on_slurm = prepare_workdir(tmp_path / "slurm")
    proc = run_on_slurm(on_slurm, *args)

    # Every job ran as a SLURM job, and SLURM recorded it as completed.
    jobs = assert_every_job_ran_on_slurm(proc)

    # The same results, bit for bit.
    expected = result_files(local)
    assert expected, "the local run produced no results"
    differing = differing_results(expected, result_files(on_slurm))
    assert not differing, f"SLURM results differ from the local run: {differing}"

    # The gpu=1 rule reached SLURM as a GPU request and ran on the GRES.
    [probe_job] = [j for j, log in jobs.items() if "gpu_probe" in rules_run_in([log])]
    assert re.search(r"TresPerJob=gres[:/]gpu:1\b", scontrol_job(probe_job))
    probe = json.loads((on_slurm / "results" / DATASET / "hpc" / "gpu_probe.json").read_text())
    env = probe["environment"]
    assert env["SLURM_JOB_ID"] == probe_job
    assert env["CUDA_VISIBLE_DEVICES"] not in (None, "")
    assert env["SLURM_STEP_GPUS"] not in (None, "")
    local_probe = json.loads((local / "results" / DATASET / "hpc" / "gpu_probe.json").read_text())
    assert local_probe["environment"]["SLURM_JOB_ID"] is None

    # Forcing one rule resubmits that rule and what depends on it, nothing else.
    graph = rule_graph(on_slurm, args)
    forced = rule_to_force(graph)
    expected_rules = ({forced} | descendants(graph, forced)) - {"all"}
    untouched = {
        rel: path.stat().st_mtime_ns
        for rel, path in (
            (p.relative_to(on_slurm), p) for p in (on_slurm / "results").rglob("*") if p.is_file()
        )
    }
    rerun = run_on_slurm(on_slurm, *args, "-R", forced)
    rerun_jobs = assert_every_job_ran_on_slurm(rerun)
    assert not set(rerun_jobs) & set(jobs), "SLURM job ids reused"
    assert set(rules_run_in(list(rerun_jobs.values()))) == expected_rules
    probe_path = Path("results") / DATASET / "hpc" / "gpu_probe.json"
    if "gpu_probe" not in expected_rules:
        assert (on_slurm / probe_path).stat().st_mtime_ns == untouched[probe_path]
    assert not differing_results(expected, result_files(on_slurm))
