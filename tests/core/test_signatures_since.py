"""Signatures recomputed only around the edited files equal a full computation.

Every example builds a small vault, then edits files one at a time the way a user
does (prose, links added or removed, links to missing notes, a title, a new file) and
after each edit compares the shortcut with the full computation.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.graph.build import build_graph
from kgraph.incremental import Signatures, resolver_key, signatures
from kgraph.vault.load import VaultData, load_vault

NAMES = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"]


def _vault(root: Path) -> None:
    for i, name in enumerate(NAMES):
        nxt = NAMES[(i + 1) % len(NAMES)]
        body = (
            f"# {name}\n\n{name} links to [[{nxt}]] and [[Alpha]].\n\nSee also: [[{nxt}]]\n"
            "\nAlso [[Pair]] and [[sub/Beta]].\n"
        )
        (root / f"{name}.md").write_text(f"---\ntags: [t{i % 2}]\n---\n{body}")
    (root / "sub").mkdir()
    (root / "sub" / "Beta.md").write_text("A second Beta, linking [[Gamma#Gamma]].\n")
    (root / "Pair.md").write_text("---\ntitle: Pair one\n---\nOne [[Delta]].\n")


EDITS = st.tuples(
    st.sampled_from(
        ["prose", "link", "unlink", "missing", "unwish", "title", "new", "context", "shadow"]
    ),
    st.sampled_from(NAMES),
    # Link targets whose concept key is not their name: a stem with a title, a path.
    st.sampled_from([*NAMES, "Pair", "sub/Beta"]),
)


def _edit(root: Path, kind: str, name: str, other: str, step: int) -> None:
    path = root / f"{name}.md"
    text = path.read_text()
    if kind == "prose":
        text += f"\nMore words {step}.\n"
    elif kind == "link":
        text += f"\nNow also [[{other}]] here.\n"
    elif kind == "unlink":
        text = text.replace(f"[[{other}]]", other)
    elif kind == "missing":  # a stub, written either way: the first link names it
        text += f"\nA wish: [[{'Nowhere' if step % 2 else 'nowhere'} {step % 3}]].\n"
    elif kind == "unwish":
        text = "\n".join(line for line in text.split("\n") if not line.startswith("A wish"))
    elif kind == "shadow":  # a stub whose key sorts first takes the note's plain slug
        text += f"\nA shadow: [[({other})]].\n"
    elif kind == "title":
        text = text.replace("---\ntags", f"---\ntitle: {name} {step}\ntags", 1)
    elif kind == "context":
        text = text.replace(" links to ", f" now points ({step}) to ", 1)
    else:
        (root / f"New {step}.md").write_text(f"New note pointing at [[{other}]].\n")
        return
    path.write_text(text)


def _signatures(data: VaultData) -> tuple[Signatures, str, object]:
    cg = build_graph(data.notes, data.files)
    digests = {rel: item.digest for rel, item in data.parsed.items()}
    return signatures(cg, digests, {}), resolver_key(cg, data.notes, data.files), cg


@settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(EDITS, min_size=1, max_size=6))
def test_signatures_since_the_last_build_equal_a_full_computation(
    edits: list[tuple[str, str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _vault(root)
        data = load_vault(root, jobs=1)
        last, last_key, _ = _signatures(data)
        shortcuts = 0
        for step, (kind, name, other) in enumerate(edits):
            _edit(root, kind, name, other, step)
            data = load_vault(root, jobs=1, previous=data.parsed)
            full, key, cg = _signatures(data)
            if key == last_key:
                replaced = {rel: item.notes for rel, item in data.replaced.items()}
                digests = {rel: item.digest for rel, item in data.parsed.items()}
                quick = signatures(cg, digests, {}, since=(last, replaced))
                assert quick == full, (kind, name, other)
                shortcuts += 1
            last, last_key = full, key
        # Prose and link edits keep resolution as it was, stubs coming and going
        # included: the shortcut was taken.
        quick_kinds = ("prose", "link", "unlink", "context", "missing", "unwish")
        if all(kind in quick_kinds for kind, _, _ in edits):
            assert shortcuts == len(edits)
