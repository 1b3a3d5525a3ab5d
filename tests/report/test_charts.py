"""The report's SVG charts: ticks, scales, well-formed SVG, the same bytes for the same data."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from import_support import packages_after
from stratopt.report import charts, ticks
from stratopt.report.svgplot import Figure
from stratopt.report.ticks import Scale

SVG = "{http://www.w3.org/2000/svg}"


def _svg(uri: str) -> ET.Element:
    head = "data:image/svg+xml;base64,"
    assert uri.startswith(head)
    return ET.fromstring(base64.b64decode(uri[len(head) :]))


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_linear_ticks_are_round_numbers_inside_the_limits() -> None:
    got = ticks.linear_ticks(-3.2, 151_234.0)
    assert [v for v, _ in got] == [0.0, 50_000.0, 100_000.0, 150_000.0]
    assert [s for _, s in got] == ["0", "50,000", "100,000", "150,000"]
    halves = ticks.linear_ticks(-1.0, 1.0, 4)
    assert [s for _, s in halves] == ["-1.0", "-0.5", "0.0", "0.5", "1.0"]
    assert ticks.number(-0.0001, 0.5) == "0.0" and ticks.number(2.5, 2.5) == "2.5"


def test_log_and_symlog_ticks() -> None:
    assert [s for _, s in ticks.power_ticks(0.7, 3e7)] == [
        "1", "10", "100", "1,000", "10k", "100k", "1e6", "1e7",
    ]  # fmt: skip
    assert ticks.symlog_ticks(3000.0, 10.0) == [
        (0.0, "0"),
        (10, "10"),
        (100, "100"),
        (1000, "1,000"),
    ]
    log = Scale(1.0, 100.0, "log")
    assert log.unit(10.0) == pytest.approx(0.5)
    sym = Scale(0.0, 1000.0, "symlog", 10.0)  # 0..10 linear, then one unit per decade
    assert sym.unit(10.0) == pytest.approx(1 / 3) and sym.unit(100.0) == pytest.approx(2 / 3)


def test_date_ticks_follow_the_calendar() -> None:
    day = lambda s: int(np.datetime64(s, "D").astype("int64"))  # noqa: E731
    quarters = ticks.date_ticks(day("2023-01-02"), day("2024-07-20"), 7)
    assert [s for _, s in quarters] == [
        "Apr 2023", "Jul 2023", "Oct 2023", "Jan 2024", "Apr 2024", "Jul 2024",
    ]  # fmt: skip
    assert quarters[0][0] == day("2023-04-01")
    weeks = ticks.date_ticks(day("2024-01-02"), day("2024-03-20"), 7)
    assert all(np.datetime64(int(v), "D").astype("O").weekday() == 0 for v, _ in weeks)  # Mondays
    years = ticks.date_ticks(day("2001-06-01"), day("2024-06-01"), 7)
    assert [s for _, s in years] == ["2005", "2010", "2015", "2020"]


def test_limits_pad_and_survive_flat_or_empty_data() -> None:
    assert ticks.limits(np.array([0.0, 10.0])) == (-0.5, 10.5)
    lo, hi = ticks.limits(np.array([5.0, 5.0]))
    assert lo < 5.0 < hi
    assert ticks.limits(np.array([np.nan])) == (0.0, 1.0)


def _dates(n: int) -> np.ndarray:
    return np.datetime64("2023-01-02") + 7 * np.arange(n)


def _every_chart() -> dict[str, str]:
    rng = np.random.default_rng(7)
    edges = np.linspace(-1.0, 1.0, 41)
    matrix = np.clip(rng.normal(0.2, 0.4, (9, 9)), -1, 1)
    matrix[2, 3] = np.nan
    curves = {"ga": [[1, 0.2], [50, 0.7]], "rs": [[1, 0.1], [80, 0.4]], "empty": []}
    return {
        "equity": charts.equity_drawdown(_dates(30), rng.normal(10, 50, 30), "size <5> & co"),
        "histogram": charts.histogram(edges, rng.integers(0, 1000, 40)),
        "heatmap": charts.heatmap(matrix, [f"w{i}" for i in range(9)]),
        "stages": charts.stage_bars(["ingest", "optimize"], [0.5, 2.0], [0.6, 2.5]),
        "oos": charts.oos_equity(
            _dates(12), rng.normal(0, 5, 12), {"top_roi": rng.normal(0, 5, 12)}, [0, 6], "oos"
        ),
        "random": charts.random_distribution(
            edges * 100, rng.integers(0, 9, 40), 20.0, {"a": -5.0}
        ),
        "convergence": charts.convergence(curves, "size 5"),
    }


def test_every_chart_is_well_formed_svg_and_the_same_bytes_twice() -> None:
    first, second = _every_chart(), _every_chart()
    assert first == second
    for name, uri in first.items():
        root = _svg(uri)
        assert root.tag == f"{SVG}svg", name
        assert float(root.get("width", "0")) > 0 and float(root.get("height", "0")) > 0
    assert "size <5> & co" in _texts(_svg(first["equity"]))  # escaped, shown as written
    assert {"GA", "RS"} <= set(_texts(_svg(first["convergence"])))
    assert "EMPTY" not in _texts(_svg(first["convergence"]))  # nothing drawn: no legend entry


def test_the_heatmap_is_one_pixel_block_per_cell() -> None:
    from PIL import Image

    matrix = np.array([[1.0, -1.0], [np.nan, 0.0]])
    root = _svg(charts.heatmap(matrix, ["a", "b"]))
    image = next(root.iter(f"{SVG}image"))
    png = base64.b64decode(image.get("href", "").removeprefix("data:image/png;base64,"))
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    block = pixels.shape[0] // 2
    assert pixels.shape[0] == pixels.shape[1] and block * 2 == pixels.shape[0]
    corner = lambda i, j: tuple(pixels[i * block, j * block])  # noqa: E731
    assert corner(0, 0) == (0x67, 0x00, 0x1F)  # r = +1: RdBu_r's darkest red
    assert corner(0, 1) == (0x05, 0x30, 0x61)  # r = -1: its darkest blue
    assert corner(1, 0) == (255, 255, 255)  # no pairs: white
    assert corner(1, 1) == (0xF7, 0xF7, 0xF7)  # r = 0: the middle


def test_data_maps_into_the_panel_and_the_legend_avoids_the_data() -> None:
    fig = Figure(500, 300)
    ax = fig.panel(10, 10, 400, 200, Scale(0.0, 10.0), Scale(0.0, 1.0))
    assert (ax.px(0.0), ax.px(10.0), ax.py(0.0), ax.py(1.0)) == (10, 410, 210, 10)
    ax.line([0.0, 10.0], [1.0, 0.0], "#000")  # upper left to lower right
    ax.legend([("a line", "#000", None)])
    box = next(r for r in ET.fromstring(fig.svg()).iter(f"{SVG}rect") if r.get("fill-opacity"))
    x, y = float(box.get("x", "nan")), float(box.get("y", "nan"))
    assert x > 210 and y < 60  # upper right: a corner the line leaves free


def test_the_report_job_does_not_import_matplotlib() -> None:
    """Its import and drawing were two thirds of the report job's CPU (docs/report.md)."""
    code = (
        "import numpy as np\n"
        "import stratopt.stages.report\n"
        "from stratopt.report import charts\n"
        "charts.heatmap(np.eye(3), ['a', 'b', 'c'])\n"
        "charts.equity_drawdown(np.arange(3).astype('datetime64[D]'), np.ones(3), 't')\n"
    )
    assert packages_after(code, ["matplotlib", "pandas"]) == []
