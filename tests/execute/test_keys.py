from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kgraph.execute.keys import ModuleFinder, imported_names
from kgraph.execute.plan import plan_note

from .conftest import cell, note

VERSIONS = {"python": "3", "numpy": "2", "matplotlib": "3", "kgraph": "0"}


def keys(vault: Path, *cells: Any, params: dict[str, Any] | None = None) -> list[str]:
    plan = plan_note(note("n.md", *cells, params=params), vault, ModuleFinder(vault), VERSIONS)
    return [c.key for c in plan.cells]


def test_imported_names_absolute_and_relative() -> None:
    tree = ast.parse("import a.b\nfrom c import d, e\nfrom . import f\nfrom ..g import h\n")
    assert imported_names(tree, None) == {"a.b", "c", "c.d", "c.e"}
    assert imported_names(tree, "pkg.sub") == {
        "a.b",
        "c",
        "c.d",
        "c.e",
        "pkg.sub",
        "pkg.sub.f",
        "pkg.g",
        "pkg.g.h",
    }


def test_finder_follows_imports_transitively(vault: Path) -> None:
    found = ModuleFinder(vault).modules("from models.ltp import weights\nimport numpy\n")
    assert set(found) == {"models/__init__.py", "models/ltp.py", "models/kernel.py"}


def test_relative_import_inside_a_package(vault: Path) -> None:
    (vault / "models" / "rel.py").write_text("from . import kernel\nfrom .ltp import weights\n")
    found = ModuleFinder(vault).modules("import models.rel")
    assert {"models/rel.py", "models/kernel.py", "models/ltp.py"} <= set(found)


def test_key_is_stable_for_same_input(vault: Path) -> None:
    first = keys(vault, cell(0, "x = 1"), cell(1, "y = x"))
    assert first == keys(vault, cell(0, "x = 1"), cell(1, "y = x"))
    assert len(set(first)) == 2


def test_line_moves_do_not_change_key(vault: Path) -> None:
    # prose edits move cells to other lines; the key must not care
    assert keys(vault, cell(0, "x = 1", line=3)) == keys(vault, cell(0, "x = 1", line=40))


def test_earlier_cells_change_later_keys_not_the_reverse(vault: Path) -> None:
    base = keys(vault, cell(0, "x = 1"), cell(1, "y = x"))
    earlier = keys(vault, cell(0, "x = 2"), cell(1, "y = x"))
    later = keys(vault, cell(0, "x = 1"), cell(1, "y = x + 1"))
    assert earlier[0] != base[0] and earlier[1] != base[1]
    assert later[0] == base[0] and later[1] != base[1]


def test_options_and_params_change_key(vault: Path) -> None:
    base = keys(vault, cell(0, "x = 1"), params={"tau": 20})
    assert keys(vault, cell(0, "x = 1"), params={"tau": 21}) != base
    assert keys(vault, cell(0, "x = 1", label="fig-a"), params={"tau": 20}) != base


def test_module_edit_changes_key_of_importing_cells_only(vault: Path) -> None:
    cells = (cell(0, "x = 1"), cell(1, "import models.ltp"), cell(2, "z = 3"))
    before = keys(vault, *cells)
    (vault / "models" / "ltp.py").write_text("def weights(n):\n    return [0] * n\n")
    after = keys(vault, *cells)
    assert after[0] == before[0]  # the cell before the import does not use the module
    assert after[1] != before[1] and after[2] != before[2]  # later cells share its namespace


def test_transitive_module_edit_changes_key(vault: Path) -> None:
    before = keys(vault, cell(0, "from models.ltp import weights"))
    (vault / "models" / "kernel.py").write_text("def window(i):\n    return 3 * i\n")
    assert keys(vault, cell(0, "from models.ltp import weights")) != before


def test_unrelated_module_edit_keeps_key(vault: Path) -> None:
    before = keys(vault, cell(0, "from models.ltp import weights"))
    (vault / "models" / "unrelated.py").write_text("VALUE = 2\n")
    assert keys(vault, cell(0, "from models.ltp import weights")) == before


def test_depends_file_edit_changes_key(vault: Path) -> None:
    code = "import numpy as np\nd = np.loadtxt('data.csv', delimiter=',')"
    before = keys(vault, cell(0, code, depends=["data.csv"]))
    without = keys(vault, cell(0, code))
    (vault / "data.csv").write_text("4,5,6\n")
    assert keys(vault, cell(0, code, depends=["data.csv"])) != before
    assert keys(vault, cell(0, code)) == without


@given(st.text(max_size=200))
def test_finder_never_raises_on_any_code(code: str) -> None:
    vault = Path(__file__).resolve().parents[1] / "vaults" / "cells"
    found = ModuleFinder(vault).modules(code)
    assert all(path.endswith(".py") for path in found)
