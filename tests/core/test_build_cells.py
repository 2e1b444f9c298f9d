"""`kgraph build` with model cells: what runs, what is reused, what fails alone (DESIGN §5-6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgraph.cli import main

A = """---
title: Alpha
params:
  n: 3
---
### Model

Alpha grows as the kernel says.

```{python}
#| label: fig-alpha
#| fig-cap: Alpha weights
import matplotlib.pyplot as plt
from models.ltp import weights

plt.plot(range(params["n"]), weights(params["n"]), label="w")
plt.xlabel("step")
```
"""

B = """---
title: Beta
---
Beta shows ![[Alpha#fig-alpha]] and links [[Alpha#fig-alpha]].

```{python}
#| label: fig-beta
import numpy as np
import matplotlib.pyplot as plt
plt.bar([0, 1, 2], np.array([3.0, 1.0, 2.0]))
```
"""

C = """---
title: Gamma
---
```{python}
from models.unrelated import VALUE
print("value", VALUE)
```
"""

FILES = {
    "Alpha.md": A,
    "Beta.md": B,
    "Gamma.md": C,
    "models/__init__.py": "",
    "models/kernel.py": "def window(i):\n    return 2 * i\n",
    "models/ltp.py": "from models.kernel import window\n\n\ndef weights(n):\n"
    "    return [window(i) for i in range(n)]\n",
    "models/unrelated.py": "VALUE = 1\n",
}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def build(vault: Path, *extra: str) -> tuple[int, dict]:
    out = vault.parent / "site"
    report = vault.parent / "report.json"
    code = main(["build", str(vault), "-o", str(out), "--report", str(report), "--quiet", *extra])
    return code, json.loads(report.read_text())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_cells_run_once_and_rerun_only_what_changed(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Build and query share one cache folder (by default ./.kgraph-cache for both).
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(vault.parent / "cache"))
    code, report = build(vault)
    assert code == 0
    assert report["cells"] == {"executed": 3, "cached": 0, "failed": 0}
    labels = {(f["concept"], f["label"]) for f in report["figures"]}
    assert labels == {("alpha", "fig-alpha"), ("beta", "fig-beta")}
    out = vault.parent / "site"
    for fig in report["figures"]:
        assert (out / fig["svg"]).read_text().lstrip().startswith(("<?xml", "<svg"))
        data = json.loads((out / fig["data"]).read_text())
        assert data["label"] == fig["label"]
    # Queries see the figures the build computed.
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["query", "--vault", str(vault), "--format", "json", "figures"]) == 0
    listed = {(f["concept"], f["label"]) for f in json.loads(buf.getvalue())}
    assert listed == labels
    alpha = next(f for f in report["figures"] if f["label"] == "fig-alpha")
    series = json.loads((out / alpha["data"]).read_text())["axes"][0]["series"][0]
    assert series["x"] == [0, 1, 2] and series["y"] == [0, 2, 4]
    assert report["edges"]["has_figure"] == 2

    # A no-op rebuild runs nothing.
    _, report = build(vault)
    assert report["cells"] == {"executed": 0, "cached": 3, "failed": 0}

    # Prose edits run nothing.
    edit(vault / "Alpha.md", "Alpha grows", "Alpha, edited, grows")
    _, report = build(vault)
    assert report["cells"]["executed"] == 0

    # params re-run only that note's cells.
    edit(vault / "Alpha.md", "n: 3", "n: 4")
    _, report = build(vault)
    assert report["cells"] == {"executed": 1, "cached": 2, "failed": 0}

    # A module imported through another module re-runs exactly the cells importing it.
    edit(vault / "models/kernel.py", "2 * i", "3 * i")
    _, report = build(vault)
    assert report["cells"] == {"executed": 1, "cached": 2, "failed": 0}
    edit(vault / "models/unrelated.py", "VALUE = 1", "VALUE = 2")
    _, report = build(vault)
    assert report["cells"] == {"executed": 1, "cached": 2, "failed": 0}
    gamma = (out / "gamma" / "index.html").read_text()
    assert "value 2" in gamma


def test_failing_cell_fails_alone_and_keeps_last_good_figure(vault: Path) -> None:
    code, _ = build(vault)
    assert code == 0
    edit(vault / "Beta.md", "plt.bar(", "undefined_name + plt.bar(")
    code, report = build(vault)
    assert code == 0  # a failed cell is a warning; --strict makes it an error
    assert report["cells"]["failed"] == 1
    errors = [w for w in report["warnings"] if w["code"] == "cell-error"]
    assert [(w["file"], w["line"]) for w in errors] == [("Beta.md", 6)]
    out = vault.parent / "site"
    beta = (out / "beta" / "index.html").read_text()
    assert "NameError" in beta and "undefined_name" in beta
    assert "stale" in beta.lower()  # the last good figure stays, marked stale
    assert (out / "alpha" / "index.html").is_file()
    code, again = build(vault, "--strict")
    assert code == 1
    # A build with failed cells is never taken for a no-op: the vault is read again.
    assert "read" in again["timings"] and again["cells"]["failed"] == 1


def test_no_exec_uses_cache_and_marks_the_rest(vault: Path) -> None:
    code, report = build(vault, "--no-exec")
    assert code == 0
    assert report["cells"]["executed"] == 0
    page = (vault.parent / "site" / "alpha" / "index.html").read_text()
    assert "not executed" in page.lower()
    build(vault)
    _, report = build(vault, "--no-exec")
    assert report["cells"] == {"executed": 0, "cached": 3, "failed": 0}
