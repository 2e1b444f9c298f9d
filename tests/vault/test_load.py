"""Reading a vault in worker processes gives what one process gives, and a usable cache."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kgraph.vault.load import PARALLEL_MIN_FILES, load_vault


def _vault(root: Path, count: int) -> Path:
    root.mkdir()
    for i in range(count):
        text = f"---\ntitle: Note {i}\ntags: [t{i % 3}]\n---\n\n## Part {i}\n\n"
        text += f"See [[Note {i + 1}]] and $x_{i}$.\n"
        if i % 7 == 0:
            text += "\n> a quote that the fast paths leave to markdown-it [[Note 0]]\n"
        (root / f"n{i:03d}.md").write_text(text)
    return root


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_workers_read_what_one_process_reads(tmp_path: Path) -> None:
    vault = _vault(tmp_path / "v", PARALLEL_MIN_FILES + 40)
    two = load_vault(vault, cache_dir=tmp_path / "c2", jobs=2, compile_bodies=True)
    one = load_vault(vault, cache_dir=tmp_path / "c1", jobs=1, compile_bodies=True)
    assert two.reparsed == one.reparsed == PARALLEL_MIN_FILES + 40
    assert two.notes == one.notes and two.parsed == one.parsed
    # bodies with a quote are left to markdown-it; the others come back compiled
    assert set(two.compiled) == set(one.compiled) and two.compiled == one.compiled
    assert 0 < len(two.compiled) < len(two.notes)
    # the cache the workers wrote serves the next read whole
    again = load_vault(vault, cache_dir=tmp_path / "c2", jobs=2)
    assert again.reparsed == 0 and again.notes == two.notes
