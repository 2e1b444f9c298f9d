"""Turn open matplotlib figures into theme-friendly SVG text plus their plotted data.

Runs inside a worker. The SVG has a transparent background and every pure black
(`#000000`, the default for text, spines and ticks) becomes `currentColor`, so an
inlined figure takes the page's text colour on light and dark themes alike.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

MAX_POINTS = 200_000  # per series in the data file; longer series are cut and flagged
SVG_SALT = "kgraph"  # fixed ids in the SVG so equal figures give equal bytes

_BLACK = re.compile(r"#000000\b", re.IGNORECASE)
_SVG_OPEN = re.compile(r"<svg\b")


def apply_style() -> None:
    """Reset rcParams to matplotlib defaults plus the settings that make output deterministic."""
    matplotlib.rcdefaults()
    matplotlib.rcParams["svg.hashsalt"] = SVG_SALT
    matplotlib.rcParams["svg.fonttype"] = "path"


def _number(value: Any) -> Any:
    """A JSON-safe scalar: NaN and infinities become None, numpy scalars plain Python."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _values(data: Any) -> list[Any]:
    array = np.ma.asarray(data).ravel()[:MAX_POINTS]
    if array.dtype.kind in "fc":
        array = np.ma.masked_invalid(array.real if array.dtype.kind == "c" else array)
    mask = np.ma.getmaskarray(array).ravel()
    flat = np.asarray(array.data if isinstance(array, np.ma.MaskedArray) else array).ravel()
    return [None if hidden else _number(v) for v, hidden in zip(flat.tolist(), mask, strict=True)]


def _label(artist: Any) -> str | None:
    label = artist.get_label()
    # matplotlib names unlabeled artists "_child0", "_nolegend_" ...
    return None if not label or str(label).startswith("_") else str(label)


def _flag_truncated(series: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    for item, size in zip(series, sizes, strict=True):
        if size > MAX_POINTS:
            item["truncated"] = size
    return series


def _size(data: Any) -> int:
    return int(np.size(data))


def _axes_series(ax: Axes) -> list[dict[str, Any]]:
    return _flag_truncated(*_collect_series(ax))


def _collect_series(ax: Axes) -> tuple[list[dict[str, Any]], list[int]]:
    series: list[dict[str, Any]] = []
    sizes: list[int] = []
    for line in ax.get_lines():
        sizes.append(max(_size(line.get_xdata()), _size(line.get_ydata())))
        series.append(
            {
                "label": _label(line),
                "kind": "line",
                "x": _values(line.get_xdata()),
                "y": _values(line.get_ydata()),
            }
        )
    for collection in ax.collections:
        if isinstance(collection, PathCollection):
            offsets: Any = np.ma.asarray(collection.get_offsets()).reshape(-1, 2)
            sizes.append(len(offsets))
            series.append(
                {
                    "label": _label(collection),
                    "kind": "scatter",
                    "x": _values(offsets[:, 0]),
                    "y": _values(offsets[:, 1]),
                }
            )
    for container in ax.containers:
        if isinstance(container, BarContainer):
            horizontal = getattr(container, "orientation", "vertical") == "horizontal"
            patches = list(container.patches)
            xs = [p.get_y() if horizontal else p.get_x() for p in patches]
            ys = [p.get_width() if horizontal else p.get_height() for p in patches]
            sizes.append(len(patches))
            series.append(
                {"label": _label(container), "kind": "bar", "x": _values(xs), "y": _values(ys)}
            )
    for image in ax.get_images():
        array = image.get_array()
        sizes.append(0)
        series.append(
            {
                "label": _label(image),
                "kind": "image",
                "shape": list(np.shape(array)) if array is not None else [],
                "extent": _values(image.get_extent()),
            }
        )
    return series, sizes


def figure_data(fig: Figure) -> dict[str, Any]:
    """The plotted series of a figure, shaped `{"axes": [{"title", ..., "series": [...]}]}`."""
    axes = []
    for ax in fig.axes:
        axes.append(
            {
                "title": ax.get_title(),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "xscale": ax.get_xscale(),
                "yscale": ax.get_yscale(),
                "series": _axes_series(ax),
            }
        )
    return {"axes": axes}


def theme_svg(svg: str) -> str:
    """Map default black to `currentColor` and make unset fills inherit it too."""
    svg = _BLACK.sub("currentColor", svg)
    # SVG paints an element with no fill black; inheriting currentColor keeps that themable
    return _SVG_OPEN.sub('<svg fill="currentColor" class="kg-figure"', svg, count=1)


def figure_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", transparent=True, metadata={"Date": None})
    return theme_svg(buffer.getvalue())


def capture_open_figures() -> list[tuple[str, dict[str, Any]]]:
    """SVG text and data of every open figure, in creation order; all figures are closed after."""
    captured: list[tuple[str, dict[str, Any]]] = []
    try:
        for number in plt.get_fignums():
            fig = plt.figure(number)
            captured.append((figure_svg(fig), figure_data(fig)))
    finally:
        plt.close("all")
    return captured
