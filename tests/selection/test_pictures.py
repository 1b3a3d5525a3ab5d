"""The legacy pictures (Pillow): their size, their content, the same bytes for the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from import_support import packages_after
from stratopt.runtime.scheduling import select_threads
from stratopt.selection.pictures import BOX, COLOURS, FILL, Pictures, draw_all

DATES = np.datetime64("2024-01-05") + 7 * np.arange(40)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (640, 320) and image.mode == "RGB"
        return np.asarray(image)


def _near(pixels: np.ndarray, colour: tuple[int, int, int], tol: int = 12) -> np.ndarray:
    return np.all(np.abs(pixels.astype(int) - np.array(colour)) <= tol, axis=-1)


def test_both_pictures_of_a_size_show_its_curve_and_its_drawdown(tmp_path: Path) -> None:
    series = np.where(np.arange(40) % 9 == 4, -300.0, 100.0)  # rises, with drops: a drawdown
    Pictures(DATES).draw(tmp_path, 7, series)
    equity = _pixels(tmp_path / "equity_curve_size7.png")
    drawdown = _pixels(tmp_path / "drawdown_size7.png")
    left, top, right, bottom = BOX
    inside = (slice(top + 2, bottom - 2), slice(left + 2, right - 2))
    assert _near(equity[inside], COLOURS["equity_curve"]).sum() > 300  # the curve, end to end
    assert _near(drawdown[inside], COLOURS["drawdown"]).sum() > 300
    assert _near(drawdown[inside], FILL, 6).sum() > 500  # the area under the drawdowns
    assert not _near(equity[inside], COLOURS["drawdown"]).any()
    assert (equity[:top] < 128).any() and (equity[bottom + 4 :] < 128).any()  # title, dates


def test_the_same_data_gives_the_same_bytes_and_other_data_other_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    series = rng.normal(50.0, 400.0, len(DATES))
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Pictures(DATES).draw(tmp_path / name, 35, series)
    for picture in ("equity_curve_size35.png", "drawdown_size35.png"):
        assert (tmp_path / "a" / picture).read_bytes() == (tmp_path / "b" / picture).read_bytes()
    Pictures(DATES).draw(tmp_path / "b", 35, series[::-1])
    assert (tmp_path / "a" / "equity_curve_size35.png").read_bytes() != (
        tmp_path / "b" / "equity_curve_size35.png"
    ).read_bytes()


def test_flat_and_one_session_series_still_draw(tmp_path: Path) -> None:
    Pictures(DATES).draw(tmp_path, 3, np.zeros(len(DATES)))  # no drawdown at all
    _pixels(tmp_path / "drawdown_size3.png")
    one = DATES[:1]
    Pictures(one).draw(tmp_path, 4, np.array([12.5]))
    assert _near(_pixels(tmp_path / "equity_curve_size4.png"), COLOURS["equity_curve"]).any()


def test_the_pictures_import_no_matplotlib() -> None:
    """Its import and set-up were 0.8-0.9 s of the select job's CPU (docs/performance.md)."""
    code = (
        "import tempfile, pathlib, numpy as np\n"
        "from stratopt.selection.pictures import Pictures\n"
        "d = np.datetime64('2024-01-05') + 7 * np.arange(5)\n"
        "Pictures(d).draw(pathlib.Path(tempfile.mkdtemp()), 5, np.ones(5))\n"
    )
    assert packages_after(code, ["matplotlib"]) == []


def test_threads_draw_the_same_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    winners = [(size, rng.normal(20.0, 300.0, len(DATES))) for size in range(35, 48)]
    for threads in (1, 2, 5):
        (tmp_path / str(threads)).mkdir()
        draw_all(DATES, tmp_path / str(threads), winners, threads)
    one = sorted(p.name for p in (tmp_path / "1").iterdir())
    assert len(one) == 2 * len(winners)
    for threads in (2, 5):
        other = tmp_path / str(threads)
        assert sorted(p.name for p in other.iterdir()) == one
        for name in one:
            assert (other / name).read_bytes() == (tmp_path / "1" / name).read_bytes(), name


def test_select_takes_two_threads_only_for_many_sizes() -> None:
    assert select_threads(35, 100) == 2  # the default run: 132 pictures
    assert select_threads(35, 35) == 1  # one-size: select runs beside correlation_summary
    assert select_threads(35, 37) == 1
    # few local cores: a shard waits with select for the search's cores; side by side
    assert select_threads(35, 100, shards_beside=True) == 1
