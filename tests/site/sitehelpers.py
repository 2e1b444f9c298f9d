"""Building small sites from test vaults, with hand-made cell results."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgraph.config import Config
from kgraph.graph.build import build_graph
from kgraph.publish import publish
from kgraph.site.render import SiteOutput, render_site
from kgraph.vault.note import Note
from kgraph.vault.parse import parse_file

VAULTS = Path(__file__).parent.parent / "vaults" / "site"


@dataclass(frozen=True)
class Figure:
    label: str
    caption: str
    svg: Path
    data: Path
    number: int


@dataclass(frozen=True)
class Result:
    note_id: str
    index: int
    line: int
    key: str
    status: str = "ok"
    cached: bool = False
    stale: bool = False
    stdout: str = ""
    error: str | None = None
    figures: tuple[Figure, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def load_notes(vault: Path) -> tuple[list[Note], list[str]]:
    notes: list[Note] = []
    files = sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*") if p.is_file())
    for rel in files:
        if rel.endswith(".md"):
            found, _ = parse_file((vault / rel).read_bytes(), rel)
            notes.extend(found)
    return notes, files


def neuron_cells(tmp: Path) -> dict[str, list[Result]]:
    """A result for the one cell of Neuron.md: stdout and one figure."""
    svg = tmp / "rate.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
                   '<rect width="40" height="30" fill="#36c"/></svg>')  # fmt: skip
    data = tmp / "rate.json"
    data.write_text(json.dumps({"label": "fig-rate", "caption": "Firing rate", "axes": []}))
    fig = Figure("fig-rate", "Firing rate", svg, data, 1)
    result = Result("Neuron.md#0", 0, 33, "abc123", stdout="hello from cell\n", figures=(fig,),
                    provenance={"modules": "numpy", "seconds": 0.1})  # fmt: skip
    return {"Neuron.md#0": [result]}


def render_vault(name: str, tmp: Path, *, cells: Any = None) -> tuple[SiteOutput, Config]:
    return render_folder(VAULTS / name, tmp, cells=cells)


def render_folder(vault: Path, tmp: Path, *, cells: Any = None) -> tuple[SiteOutput, Config]:
    notes, files = load_notes(vault)
    cg = build_graph(notes, files)
    config = Config(vault=vault, out=tmp / "site", title="Test <Site>")
    return render_site(cg, config, cells=cells), config


def build_vault(name: str, tmp: Path, *, cells: Any = None) -> tuple[Path, SiteOutput]:
    output, config = render_vault(name, tmp, cells=cells)
    publish(config.out, output.files, output.copies)
    return config.out, output


def model_cells(tmp: Path, *, stale: bool = False) -> dict[str, list[Result]]:
    """Results for Model.md: a quiet figure cell, a failing cell, and no result for the third."""
    svg = tmp / "curve.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')
    data = tmp / "curve.json"
    data.write_text("{}")
    fig = Figure("fig-curve", "A curve", svg, data, 1)
    trace = "Traceback (most recent call last):\nValueError: boom <script>"
    first = Result("Model.md#0", 0, 9, "k0", stdout="quiet code\n", figures=(fig,), stale=stale,
                   error="ValueError: later failure" if stale else None)  # fmt: skip
    second = Result("Model.md#0", 1, 16, "k1", status="error", error=trace)
    return {"Model.md#0": [first, second]}
