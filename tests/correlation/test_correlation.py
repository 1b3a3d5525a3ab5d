"""Correlation shards: planning, exactness against dense numpy.corrcoef, merging, edge cases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from stratopt.correlation.exact import ExactColumns, compare_r
from stratopt.correlation.merge import merge_shards
from stratopt.correlation.plan import plan_shards, plan_tiles, total_pairs
from stratopt.correlation.settings import CorrelationSettings
from stratopt.correlation.shard import compute_shard
from stratopt.correlation.shard_io import read_shard, write_shard
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.engine.backend import cupy_available, get_xp
from stratopt.errors import InputError


def make_matrix(values: np.ndarray, names: list[str] | None = None) -> Matrix:
    t, n = values.shape
    return Matrix(
        dates=np.datetime64("2024-01-04") + np.arange(t) * 7,
        days=["Thursday"] * t,
        names=names or [f"SENSEX {900 + 30 * (i % 5)}-1500 SL{i + 1}%" for i in range(n)],
        values=values,
    )


@pytest.fixture(scope="module")
def sample(real_sample_csv) -> Matrix:
    frame = pd.read_csv(real_sample_csv)
    return make_matrix(frame.iloc[:, 2:].to_numpy(np.float64), list(frame.columns[2:]))


def dense_upper(values: np.ndarray) -> np.ndarray:
    """The legacy way: one dense numpy.corrcoef, undefined -> 0; its strict upper triangle."""
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.nan_to_num(np.corrcoef(values, rowvar=False), nan=0.0)
    return c[np.triu_indices(values.shape[1], 1)]


def run_all(matrix: Matrix, settings: CorrelationSettings, xp=np) -> dict:
    shards = [compute_shard(matrix, k, settings, xp=xp) for k in range(settings.shards)]
    return merge_shards(shards, matrix)


# -- planning ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "k", "tile"),
    [(1, 3, 4), (2, 1, 16), (2, 5, 16), (3, 4, 16), (37, 4, 5), (100, 7, 16), (257, 3, 64)],
)
def test_plan_covers_every_pair_exactly_once(n, k, tile):
    seen = np.zeros((n, n), dtype=np.int64)
    plan = plan_shards(n, k, tile)
    assert len(plan) == k
    for tiles in plan:
        for t in tiles:
            block = np.zeros((n, n), dtype=np.int64)
            block[t.row0 : t.row1, t.col0 : t.col1] = 1
            if t.diagonal:
                block = np.triu(block, 1)
            seen += block
    assert (np.triu(seen, 1) == np.triu(np.ones_like(seen), 1)).all()
    assert np.tril(seen).sum() == 0
    assert sum(t.pairs for tiles in plan for t in tiles) == total_pairs(n)


def test_plan_balances_work_within_one_tile():
    n, k, tile = 25544, 4, 512
    plan = plan_shards(n, k, tile)
    work = [sum(t.pairs for t in tiles) for tiles in plan]
    assert max(work) - min(work) <= 2 * tile * tile
    assert plan_tiles(n, tile) == [t for tiles in plan for t in tiles]  # contiguous, row-major


# -- exactness on the real sample --------------------------------------------
def test_real_sample_equals_dense_corrcoef(sample):
    settings = CorrelationSettings(shards=3, tile=64, top_pairs=20, near_duplicate=0.95)
    result = run_all(sample, settings)
    r = dense_upper(sample.values)
    n = sample.n_strategies
    counts, _ = np.histogram(r, bins=settings.bins, range=(-1.0, 1.0))
    assert result["histogram"]["counts"] == counts.tolist()
    assert sum(result["histogram"]["counts"]) == n * (n - 1) // 2 == result["pairs"]
    for row in result["thresholds"]:
        assert row["pairs"] == int((np.abs(r) >= row["abs_r_at_least"]).sum())
    assert result["near_duplicates"]["pairs"] == int((r >= 0.95).sum())

    dense = np.nan_to_num(np.corrcoef(sample.values, rowvar=False), nan=0.0)
    for key, order in (("positive", -1), ("negative", 1)):
        rows = result["top_pairs"][key]
        expected = np.sort(r)[::order][:20] if order == 1 else np.sort(r)[::-1][:20]
        assert np.allclose([x["r"] for x in rows], expected, atol=1e-9, rtol=0)
        assert all(abs(dense[x["i"], x["j"]] - x["r"]) <= 1e-9 and x["i"] < x["j"] for x in rows)

    np.fill_diagonal(dense, -np.inf)
    best = dense.max(axis=1)
    partners = {p["strategy"]: p for p in result["partners"]}
    assert len(partners) == n
    for i, name in enumerate(sample.names):
        p = partners[name]
        j = sample.names.index(p["partner"])
        assert abs(p["r"] - best[i]) <= 1e-9 and abs(dense[i, j] - best[i]) <= 1e-9


def test_near_duplicate_groups_are_connected_components(sample):
    from scipy.sparse.csgraph import connected_components

    result = run_all(sample, CorrelationSettings(shards=4, tile=100, near_duplicate=0.9))
    dense = np.nan_to_num(np.corrcoef(sample.values, rowvar=False), nan=0.0)
    adj = np.triu(dense >= 0.9, 1)
    _, label = connected_components(adj, directed=False)
    expected = sorted(
        sorted(np.flatnonzero(label == g).tolist())
        for g in np.unique(label)
        if (label == g).sum() > 1
    )
    got = sorted(
        sorted(sample.names.index(x) for x in group)
        for group in result["near_duplicates"]["members"]
    )
    assert got == expected
    assert result["near_duplicates"]["groups"] == len(expected) > 0


def test_window_means_match_dense(sample):
    result = run_all(sample, CorrelationSettings(shards=2, tile=128))
    dense = np.nan_to_num(np.corrcoef(sample.values, rowvar=False), nan=0.0)
    windows = result["windows"]["labels"]
    assert windows == sorted(windows, key=lambda w: [int(x) for x in w.split("-")])
    win = np.array([windows.index(n.split()[1]) for n in sample.names])
    off = ~np.eye(len(win), dtype=bool)
    for a, b in [(0, 0), (0, 1), (3, 7), (len(windows) - 1, len(windows) - 1)]:
        mask = (win[:, None] == a) & (win[None, :] == b) & off
        got = result["windows"]["mean_r"][a][b]
        if mask.any():
            assert abs(got - dense[mask].mean()) <= 1e-9
        else:
            assert got is None


def test_results_do_not_depend_on_shard_count(sample):
    base = run_all(sample, CorrelationSettings(shards=1, tile=64))
    for k in (2, 5, 13):
        other = run_all(sample, CorrelationSettings(shards=k, tile=64))
        for key in ("histogram", "thresholds", "top_pairs", "partners", "near_duplicates", "pairs"):
            assert other[key] == base[key], key


def test_merging_written_shards_and_the_cli(sample, tmp_path):
    matrix_path = tmp_path / "prepared.parquet"
    write_matrix(sample, matrix_path)
    outs = []
    for k in range(3):
        out = tmp_path / "correlation" / f"shard_{k}.parquet"
        cmd = [
            "correlate",
            "shard",
            "--shard",
            str(k),
            "--shards",
            "3",
            "--tile",
            "96",
            str(matrix_path),
            str(out),
        ]
        subprocess.run([sys.executable, "-m", "stratopt", *cmd], check=True, capture_output=True)
        outs.append(out)
    assert all(p.stat().st_size < 200_000 for p in outs)
    summary = read_shard(outs[1])
    assert summary.meta["shard"] == 1 and summary.hist.sum() == summary.meta["pairs"]
    merged = tmp_path / "correlation.json"
    cmd = ["correlate", "merge", "--matrix", str(matrix_path), str(merged), *map(str, outs)]
    subprocess.run([sys.executable, "-m", "stratopt", *cmd], check=True, capture_output=True)
    on_disk = json.loads(merged.read_text())
    direct = run_all(sample, CorrelationSettings(shards=3, tile=96))
    assert on_disk["histogram"] == direct["histogram"]
    assert on_disk["partners"] == direct["partners"]
    # a missing shard is refused, naming the problem
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stratopt",
            "correlate",
            "merge",
            "--matrix",
            str(matrix_path),
            str(merged),
            *map(str, outs[:2]),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "expected shards 0..2" in proc.stderr


def test_round_trip_of_a_shard_file(tmp_path):
    rng = np.random.default_rng(5)
    m = make_matrix(rng.standard_normal((30, 40)))
    s = compute_shard(m, 0, CorrelationSettings(shards=2, tile=16, near_duplicate=0.3))
    write_shard(s, tmp_path / "s.parquet")
    back = read_shard(tmp_path / "s.parquet")
    assert (back.hist == s.hist).all() and (back.threshold_counts == s.threshold_counts).all()
    for attr in ("top_positive", "top_negative", "partners", "near_duplicate_forest"):
        a, b = getattr(s, attr), getattr(back, attr)
        assert (a.i == b.i).all() and (a.j == b.j).all() and (a.r == b.r).all()


# -- edge cases ---------------------------------------------------------------
def test_two_strategies():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 1))
    m = make_matrix(np.hstack([x, 2 * x + 1]))
    result = run_all(m, CorrelationSettings(shards=1, tile=16))
    assert result["pairs"] == 1 and sum(result["histogram"]["counts"]) == 1
    assert result["histogram"]["counts"][-1] == 1
    assert result["near_duplicates"]["groups"] == 1
    assert [p["r"] for p in result["partners"]] == [1.0, 1.0]


def test_fewer_strategies_than_shards():
    rng = np.random.default_rng(2)
    m = make_matrix(rng.standard_normal((12, 3)))
    shards = [compute_shard(m, k, CorrelationSettings(shards=5, tile=16)) for k in range(5)]
    assert sorted(s.meta["pairs"] for s in shards) == [0, 0, 0, 0, 3]
    result = merge_shards(shards, m)
    assert sum(result["histogram"]["counts"]) == 3
    expected, _ = np.histogram(dense_upper(m.values), bins=200, range=(-1, 1))
    assert result["histogram"]["counts"] == expected.tolist()


def test_constant_columns_follow_the_legacy_rule():
    rng = np.random.default_rng(3)
    values = rng.standard_normal((20, 6))
    values[:, 2] = 0.1  # its mean does not round back to 0.1
    values[:, 4] = 0.0
    m = make_matrix(values)
    result = run_all(m, CorrelationSettings(shards=2, tile=16))
    zeroed = values.copy()
    zeroed[:, 2] = 0.0  # an all-zero column makes corrcoef's r NaN, which the legacy turns into 0
    r = dense_upper(zeroed)
    assert result["histogram"]["counts"] == np.histogram(r, bins=200, range=(-1, 1))[0].tolist()
    zero_bin = 100  # [0, 0.01)
    assert (
        result["histogram"]["counts"][zero_bin] >= 2 * 4 + 1
    )  # the 9 pairs with a constant column
    partner = {p["strategy"]: p for p in result["partners"]}
    assert partner[m.names[2]]["r"] == 0.0 and partner[m.names[4]]["r"] == 0.0


def test_non_finite_input_is_refused():
    values = np.ones((5, 3))
    values[2, 1] = np.nan
    with pytest.raises(InputError, match="line 3"):
        compute_shard(make_matrix(values), 0, CorrelationSettings(shards=1))


def test_values_on_a_bin_edge_land_where_numpy_histogram_puts_them():
    # r = 0.5 and r = -0.5 exactly, which floating-point dot products can miss by an ulp
    x = np.array([1.0, -1.0, 0.0, 0.0])
    y = np.array([1.0, 0.0, -1.0, 0.0])
    m = make_matrix(np.column_stack([x, y, -y, x + 0.0]))
    settings = CorrelationSettings(shards=1, tile=16, bins=4, thresholds=(0.5,), near_duplicate=1.0)
    result = run_all(m, settings)
    exact = ExactColumns(m.values)
    assert exact.compare(0, 1, 0.5) == 0 and exact.compare(0, 2, -0.5) == 0
    # pairs: (0,1)=.5 (0,2)=-.5 (0,3)=1 (1,2)=-1 (1,3)=.5 (2,3)=-.5 ; bins [-1,-.5) [-.5,0) [0,.5) [.5,1]
    assert result["histogram"]["counts"] == [1, 2, 0, 3]
    assert result["thresholds"][0]["pairs"] == 6
    assert result["near_duplicates"]["pairs"] == 1


def test_exact_comparison_signs():
    assert compare_r(1, 4, 0.5) == 0  # r = 1/2 exactly
    assert compare_r(3, 25, 0.6) == 1  # r = 3/5 is above the double nearest to 0.6
    assert compare_r(3, 25, 0.5) == 1
    assert compare_r(-1, 4, -0.5) == 0
    assert compare_r(-3, 25, -0.7) == 1
    assert compare_r(-3, 25, -0.5) == -1
    assert compare_r(-3, 25, 0.0) == -1
    assert compare_r(0, 0, 0.0) == 0  # constant column: r = 0


def test_float32_stays_within_its_error_bound(sample):
    s64 = run_all(sample, CorrelationSettings(shards=2, tile=128))
    s32 = run_all(sample, CorrelationSettings(shards=2, tile=128, dtype="float32"))
    r = dense_upper(sample.values)
    edges = np.linspace(-1, 1, 201)
    near_edge = int((np.abs(r[:, None] - edges[None, :]) < 2e-5).any(axis=1).sum())
    diff = np.abs(np.array(s64["histogram"]["counts"]) - np.array(s32["histogram"]["counts"])).sum()
    assert diff <= 2 * near_edge
    assert sum(s32["histogram"]["counts"]) == s64["pairs"]
    a = [x["r"] for x in s32["top_pairs"]["positive"]]
    b = [x["r"] for x in s64["top_pairs"]["positive"]]
    assert np.allclose(a, b, atol=2e-5)


# -- the compiled kernel (fused.py) against the array path --------------------
def assert_same_summary(a, b) -> None:
    """Bit for bit: counts, pairs, their r values (sign of zero included), metadata."""
    meta_a = {k: v for k, v in a.meta.items() if k != "seconds"}
    meta_b = {k: v for k, v in b.meta.items() if k != "seconds"}
    assert meta_a == meta_b
    assert (a.hist == b.hist).all() and (a.threshold_counts == b.threshold_counts).all()
    assert a.near_duplicate_pairs == b.near_duplicate_pairs
    for attr in ("top_positive", "top_negative", "partners", "near_duplicate_forest"):
        p, q = getattr(a, attr), getattr(b, attr)
        assert len(p) == len(q), attr
        assert (p.i == q.i).all() and (p.j == q.j).all(), attr
        assert p.r.tobytes() == q.r.tobytes(), attr


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shards": 3, "tile": 64, "top_pairs": 20, "near_duplicate": 0.95},
        {"shards": 2, "tile": 77, "dtype": "float32", "thresholds": (0.5, 0.97)},
        # off-grid thresholds (direct comparisons) and a fine grid of uint16 codes
        {"shards": 1, "tile": 500, "thresholds": (0.123456789, 0.8), "bins": 1000},
        {"shards": 2, "tile": 100, "dtype": "float32", "thresholds": (0.123456789,)},
        # thresholds at 0 and 1 make the outer boundaries decide: specials at r = +-1
        {"shards": 5, "tile": 33, "bins": 7, "thresholds": (0.0, 1.0), "near_duplicate": 1.0},
    ],
)
def test_compiled_kernel_equals_the_array_path(sample, kwargs):
    settings = CorrelationSettings(**kwargs)
    for k in range(settings.shards):
        fused = compute_shard(sample, k, settings, fused=True)
        array = compute_shard(sample, k, settings, fused=False)
        assert_same_summary(fused, array)


def test_compiled_kernel_equals_the_array_path_on_specials():
    # exact r = +-0.5 and +-1 on bin edges, a constant column, ties in r for the top lists
    x = np.array([1.0, -1.0, 0.0, 0.0, 2.0, -2.0])
    y = np.array([1.0, 0.0, -1.0, 0.0, 1.0, -1.0])
    values = np.column_stack([x, y, -y, x + 0.0, 3 * x, np.full(6, 0.1), -x, y + x])
    settings = CorrelationSettings(shards=2, tile=3, bins=4, thresholds=(0.5,), top_pairs=3)
    m = make_matrix(values)
    for k in range(2):
        fused = compute_shard(m, k, settings, fused=True)
        assert fused.meta["specials"] > 0 or fused.meta["pairs"] == 0
        assert_same_summary(fused, compute_shard(m, k, settings, fused=False))


def test_compiled_kernel_grows_its_buffers():
    # every pair is a near duplicate: the kernel runs out of room and resumes
    rng = np.random.default_rng(7)
    base = rng.standard_normal((20, 1))
    values = base + 1e-6 * rng.standard_normal((20, 300))
    settings = CorrelationSettings(shards=1, tile=300, near_duplicate=0.5)
    fused = compute_shard(make_matrix(values), 0, settings, fused=True)
    assert fused.near_duplicate_pairs == total_pairs(300)
    assert_same_summary(fused, compute_shard(make_matrix(values), 0, settings, fused=False))


def test_the_compiled_kernel_is_chosen_for_large_numpy_shards(monkeypatch):
    from stratopt.correlation.shard import COMPILED_FROM_PAIRS, use_compiled

    monkeypatch.delenv("STRATOPT_NO_NUMBA", raising=False)
    for dtype, pairs in COMPILED_FROM_PAIRS.items():
        assert not use_compiled(np, dtype, pairs - 1)
        assert use_compiled(np, dtype, pairs)
        assert not use_compiled(object(), dtype, pairs)  # CuPy: the array path
    monkeypatch.setenv("STRATOPT_NO_NUMBA", "1")
    assert not use_compiled(np, "float64", 10**9)


# -- GPU ---------------------------------------------------------------------
@pytest.mark.gpu
def test_cupy_backend_matches_numpy(sample):
    if not cupy_available():
        pytest.skip("CuPy with a CUDA device is needed (run scripts/gpu/check.sh on a GPU machine)")
    settings = CorrelationSettings(shards=3, tile=128, backend="cupy")
    gpu = run_all(sample, settings, xp=get_xp("cupy"))
    cpu = run_all(sample, CorrelationSettings(shards=3, tile=128))
    assert gpu["histogram"] == cpu["histogram"] and gpu["thresholds"] == cpu["thresholds"]
    assert gpu["near_duplicates"] == cpu["near_duplicates"]
    for key in ("positive", "negative"):
        assert np.allclose(
            [x["r"] for x in gpu["top_pairs"][key]],
            [x["r"] for x in cpu["top_pairs"][key]],
            atol=1e-12,
        )


# -- Snakemake ---------------------------------------------------------------
def test_snakemake_rules_dry_run(repo, tmp_path):
    snakemake = repo / ".venv" / "bin" / "snakemake"
    if not snakemake.exists():
        pytest.skip("snakemake is not installed in .venv")
    (tmp_path / "config").mkdir()
    shutil.copy(repo / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    (tmp_path / "results" / "twin").mkdir(parents=True)
    (tmp_path / "results" / "twin" / "prepared.parquet").write_bytes(
        b""
    )  # exists: a dry run reads nothing
    cfg = tmp_path / "c.yaml"
    cfg.write_text("correlation: {shards: 3, backend: cupy}\n")
    cmd = [str(snakemake), "-n", "-s", str(repo / "Snakefile"), "-d", str(tmp_path), "--cores", "2"]
    cmd += ["--configfile", str(cfg), "-p", "results/twin/correlation.json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.count("rule correlation_shard:") == 3 and "rule correlation_summary:" in out
    assert "gpu=1" in out


def test_pairwise_helper_is_sane():
    # guards the test helper itself: shards in order cover increasing pair ranges
    plan = plan_shards(50, 3, 8)
    firsts = [tiles[0].row0 * 50 + tiles[0].col0 for tiles in plan if tiles]
    assert all(a <= b for a, b in pairwise(firsts))


def test_component_roots_are_scipys_components() -> None:
    """The union-find groups the nodes exactly as scipy's connected_components does
    (random graphs with cycles, self-loops, repeated edges and isolated nodes)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from stratopt.correlation.merge import component_roots

    rng = np.random.default_rng(11)
    for n, m in ((1, 0), (10, 4), (200, 150), (500, 900)):
        i, j = rng.integers(0, n, size=(2, m))
        roots = component_roots(i, j, n)
        graph = coo_matrix((np.ones(m), (i, j)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        # the same partition: equal labels exactly where the roots are equal
        assert np.array_equal(label[:, None] == label[None, :], roots[:, None] == roots[None, :])
        assert np.all(roots <= np.arange(n))


# -- threads inside a shard job, and BLAS threads ------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"shards": 1, "tile": 64, "top_pairs": 20, "near_duplicate": 0.95},
        {"shards": 2, "tile": 77, "dtype": "float32", "thresholds": (0.5, 0.97)},
        {"shards": 1, "tile": 33, "bins": 7, "thresholds": (0.0, 1.0), "near_duplicate": 1.0},
        {"shards": 1, "tile": 100, "thresholds": (0.123456789, 0.8), "bins": 1000},
    ],
)
def test_threads_give_the_one_thread_summary(sample, kwargs):
    settings = CorrelationSettings(**kwargs)
    for k in range(settings.shards):
        one = compute_shard(sample, k, settings, fused=True)
        for threads in (2, 3, 64):
            assert_same_summary(
                compute_shard(sample, k, settings, fused=True, threads=threads), one
            )


@pytest.mark.parametrize("fused", [True, False])
def test_tile_products_run_on_one_blas_thread_whatever_the_process_allows(
    sample, monkeypatch, fused
):
    """The BLAS pool the process is given (OPENBLAS_NUM_THREADS: every core for the
    CLI, the job's threads under Snakemake) decides nothing: on an AVX-512 host a
    two-thread BLAS product rounded one tile's r differently in its last bit."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from stratopt.correlation import shard as shard_module

    seen: list[int] = []
    real_reduce = shard_module._reduce

    def reduce_and_look(reducer, z, tiles):  # noqa: ANN001, ANN202
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        real_reduce(reducer, z, tiles)

    monkeypatch.setattr(shard_module, "_reduce", reduce_and_look)
    settings = CorrelationSettings(shards=1, tile=100, thresholds=(0.123456789, 0.8), bins=1000)
    with threadpool_limits(limits=4, user_api="blas"):
        wide = compute_shard(sample, 0, settings, fused=fused)
    with threadpool_limits(limits=1, user_api="blas"):
        narrow = compute_shard(sample, 0, settings, fused=fused)
    assert seen and set(seen) == {1}
    assert_same_summary(wide, narrow)


def test_threads_give_the_one_thread_summary_on_specials_and_full_buffers():
    x = np.array([1.0, -1.0, 0.0, 0.0, 2.0, -2.0])
    y = np.array([1.0, 0.0, -1.0, 0.0, 1.0, -1.0])
    values = np.column_stack([x, y, -y, x + 0.0, 3 * x, np.full(6, 0.1), -x, y + x])
    settings = CorrelationSettings(shards=1, tile=3, bins=4, thresholds=(0.5,), top_pairs=3)
    one = compute_shard(make_matrix(values), 0, settings, fused=True)
    assert one.meta["specials"] > 0
    assert_same_summary(compute_shard(make_matrix(values), 0, settings, fused=True, threads=2), one)
    # every pair a near duplicate: each thread's kernel runs out of room and resumes
    rng = np.random.default_rng(7)
    close = rng.standard_normal((20, 1)) + 1e-6 * rng.standard_normal((20, 300))
    settings = CorrelationSettings(shards=1, tile=50, near_duplicate=0.5)
    one = compute_shard(make_matrix(close), 0, settings, fused=True)
    assert_same_summary(compute_shard(make_matrix(close), 0, settings, fused=True, threads=3), one)


def test_the_array_path_ignores_threads(sample):
    settings = CorrelationSettings(shards=2, tile=128)
    assert_same_summary(
        compute_shard(sample, 1, settings, fused=False, threads=2),
        compute_shard(sample, 1, settings, fused=False),
    )


WINDOW_MEANS_CHILD = """
import hashlib, numpy as np
from stratopt.correlation.merge import window_means
from stratopt.data.matrix import Matrix
t, n, w = 82, 25544, 124  # the production shape; each window's strategies side by side
rng = np.random.default_rng(3)
m = Matrix(
    dates=np.datetime64("2024-01-04") + np.arange(t) * 7,
    days=["Thursday"] * t,
    names=[f"SENSEX {900 + i * w // n}-1500 SL{i + 1}%" for i in range(n)],
    values=rng.standard_normal((t, n)),
)
print(hashlib.sha256(window_means(m)[1].tobytes()).hexdigest())
"""


def test_window_means_do_not_depend_on_blas_threads(tmp_path):
    # z @ onehot in a threaded BLAS split each window's long sum between threads: the
    # last bits followed OPENBLAS_NUM_THREADS (a shell against a one-thread stage job)
    digests = set()
    for threads in ("1", "2", "4"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", WINDOW_MEANS_CHILD],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_a_shard_without_tiles_on_threads():
    settings = CorrelationSettings(shards=5, tile=16)
    m = make_matrix(np.random.default_rng(1).standard_normal((12, 3)))
    empty = [k for k in range(5) if not plan_shards(3, 5, 16)[k]]
    assert empty
    for k in empty:
        summary = compute_shard(m, k, settings, fused=True, threads=2)
        assert summary.meta["pairs"] == 0 and summary.hist.sum() == 0
