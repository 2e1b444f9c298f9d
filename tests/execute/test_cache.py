from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgraph.execute.cache import CellCache, CorruptEntry, NewFigure

KEY = "ab" + "0" * 62


def store(cache: CellCache) -> None:
    figure = NewFigure("fig-a", "cap", "<svg/>", {"axes": [{"series": [{"y": [1.0]}]}]})
    cache.store(
        KEY, stdout="out", options={"label": "fig-a"}, provenance={"key": KEY}, figures=[figure]
    )


def test_round_trip(tmp_path: Path) -> None:
    cache = CellCache(tmp_path)
    assert cache.load(KEY) is None
    store(cache)
    loaded = cache.load(KEY)
    assert loaded is not None
    assert loaded.stdout == "out" and loaded.options == {"label": "fig-a"}
    (figure,) = loaded.figures
    assert figure.svg == tmp_path.resolve() / "cells" / "ab" / KEY / "fig-1.svg"
    assert figure.svg.read_text() == "<svg/>"
    assert json.loads(figure.data.read_text()) == {
        "label": "fig-a",
        "caption": "cap",
        "axes": [{"series": [{"y": [1.0]}]}],
    }
    assert not [p for p in (tmp_path / "cells" / "ab").iterdir() if p.name.startswith(".tmp")]


def test_storing_twice_keeps_one_good_entry(tmp_path: Path) -> None:
    cache = CellCache(tmp_path)
    store(cache)
    store(cache)
    assert cache.load(KEY) is not None
    assert [p.name for p in (tmp_path / "cells" / "ab").iterdir()] == [KEY]


@pytest.mark.parametrize("damage", ["bad-json", "missing-figure", "wrong-shape"])
def test_damaged_entries_raise_corrupt(tmp_path: Path, damage: str) -> None:
    cache = CellCache(tmp_path)
    store(cache)
    folder = cache.entry_dir(KEY)
    if damage == "bad-json":
        (folder / "result.json").write_text("{")
    elif damage == "missing-figure":
        (folder / "fig-1.json").unlink()
    else:
        (folder / "result.json").write_text("[]")
    with pytest.raises(CorruptEntry):
        cache.load(KEY)
    cache.discard(KEY)
    assert cache.load(KEY) is None


def test_last_good_pointer(tmp_path: Path) -> None:
    cache = CellCache(tmp_path)
    assert cache.last_good("a.md#0", 1) is None
    cache.set_last_good("a.md#0", 1, KEY)
    assert cache.last_good("a.md#0", 1) == KEY
    assert cache.last_good("a.md#0", 2) is None
