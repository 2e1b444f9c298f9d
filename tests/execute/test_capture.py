from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kgraph.execute.capture import apply_style, capture_open_figures, figure_data, theme_svg


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    apply_style()
    plt.close("all")
    yield
    plt.close("all")


def only_series(fig: matplotlib.figure.Figure) -> list[dict[str, object]]:
    axes = figure_data(fig)["axes"]
    assert len(axes) == 1
    series: list[dict[str, object]] = axes[0]["series"]
    return series


def test_line_series_with_nan_as_null_and_axis_text() -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1.5, np.nan, 3.0], label="rate")
    ax.set(title="T", xlabel="time", ylabel="w", yscale="log")
    ax.legend()  # legend handles must not show up as series
    data = figure_data(fig)["axes"][0]
    assert (data["title"], data["xlabel"], data["ylabel"]) == ("T", "time", "w")
    assert (data["xscale"], data["yscale"]) == ("linear", "log")
    assert data["series"] == [
        {"label": "rate", "kind": "line", "x": [0, 1, 2], "y": [1.5, None, 3.0]}
    ]


def test_unlabelled_line_has_no_label() -> None:
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    assert only_series(fig)[0]["label"] is None
    assert only_series(fig)[0]["x"] == [0, 1]


def test_scatter_offsets() -> None:
    fig, ax = plt.subplots()
    ax.scatter([1.0, 2.0, 3.0], [9.0, 8.0, 7.0], label="pts")
    assert only_series(fig) == [
        {"label": "pts", "kind": "scatter", "x": [1.0, 2.0, 3.0], "y": [9.0, 8.0, 7.0]}
    ]


def test_bar_positions_are_left_edges() -> None:
    fig, ax = plt.subplots()
    ax.bar([0, 1, 2], [5, 6, 7], width=0.5, align="edge")
    (series,) = only_series(fig)
    assert series["kind"] == "bar"
    assert series["x"] == [0.0, 1.0, 2.0]
    assert series["y"] == [5.0, 6.0, 7.0]


def test_histogram_gives_bin_left_edges_and_counts() -> None:
    fig, ax = plt.subplots()
    ax.hist([0.5, 1.5, 1.6, 2.5, 2.6, 2.7], bins=[0, 1, 2, 3])
    (series,) = only_series(fig)
    assert series["x"] == [0.0, 1.0, 2.0]
    assert series["y"] == [1.0, 2.0, 3.0]


def test_image_shape_and_extent() -> None:
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((3, 4)), extent=(0, 4, 0, 3))
    (series,) = only_series(fig)
    assert series == {"label": None, "kind": "image", "shape": [3, 4], "extent": [0, 4, 0, 3]}


def test_capture_closes_figures_and_svg_is_deterministic_and_themed() -> None:
    for _ in range(2):
        _fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
    (svg1, _), (svg2, _) = capture_open_figures()
    assert plt.get_fignums() == []
    assert svg1 == svg2  # same drawing, same bytes (no date, fixed hash salt)
    assert "#000000" not in svg1 and "currentColor" in svg1
    assert svg1.count('<svg fill="currentColor" class="kg-figure"') == 1


def test_theme_svg_rewrites_only_black() -> None:
    out = theme_svg('<svg width="1"><path style="stroke: #000000; fill: #1f77b4"/></svg>')
    assert out == (
        '<svg fill="currentColor" class="kg-figure" width="1">'
        '<path style="stroke: currentColor; fill: #1f77b4"/></svg>'
    )


def test_long_series_are_cut_and_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    from kgraph.execute import capture

    monkeypatch.setattr(capture, "MAX_POINTS", 5)
    fig, ax = plt.subplots()
    ax.plot(np.arange(8.0))
    ax.plot([1.0, 2.0])
    long, short = only_series(fig)
    assert long["y"] == [0.0, 1.0, 2.0, 3.0, 4.0] and long["truncated"] == 8
    assert "truncated" not in short
