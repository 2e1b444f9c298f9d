from __future__ import annotations

from graphnotes import make_note
from hypothesis import given
from hypothesis import strategies as st

from kgraph.graph.keys import fold
from kgraph.graph.resolve import Resolution, Resolver
from kgraph.vault.note import Link, Note


def resolver(*notes: Note, files: tuple[str, ...] = ()) -> Resolver:
    return Resolver(notes, sorted({n.path for n in notes} | set(files)))


def res(r: Resolver, target: str, source: str = "src.md", **kw: object) -> Resolution:
    return r.resolve(Link(target=target, line=7, **kw), source)  # type: ignore[arg-type]


def codes(resolution: Resolution) -> list[str]:
    return [p.code for p in resolution.problems]


def test_stem_is_case_insensitive() -> None:
    r = resolver(make_note("Log.md"), make_note("src.md"))
    for target in ("log", "LOG", "Log"):
        hit = res(r, target)
        assert (hit.file, hit.key, hit.via) == ("Log.md", "log", "stem")


def test_extension_written_in_any_case() -> None:
    r = resolver(make_note("Ext.md"))
    assert res(r, "Ext.MD").file == "Ext.md"
    assert res(r, "ext.md").via == "stem"


def test_literal_name_before_adding_md() -> None:
    r = resolver(make_note("v1.2.md"), make_note("Drawing x.excalidraw.md"), make_note("x.md"))
    assert res(r, "v1.2").file == "v1.2.md"
    assert res(r, "Drawing x.excalidraw").file == "Drawing x.excalidraw.md"


def test_folder_path_from_vault_root() -> None:
    r = resolver(make_note("Projects/X.md"), make_note("Other/X.md"))
    hit = res(r, "Projects/X")
    assert (hit.file, hit.via, codes(hit)) == ("Projects/X.md", "path", [])
    assert res(r, "projects/x.md").file == "Projects/X.md"


def test_partial_path_suffix() -> None:
    r = resolver(make_note("deep/area/Projects/X.md"))
    hit = res(r, "Projects/X")
    assert (hit.file, hit.via) == ("deep/area/Projects/X.md", "path")
    # A suffix must end at a folder boundary.
    assert res(r, "jects/X").via == "unresolved"


def test_relative_paths() -> None:
    r = resolver(make_note("a/b/src.md"), make_note("a/b/c.md"), make_note("a/d.md"))
    assert res(r, "./c", source="a/b/src.md").file == "a/b/c.md"
    assert res(r, "../d.md", source="a/b/src.md").file == "a/d.md"
    assert res(r, "/a/d", source="a/b/src.md").file == "a/d.md"


def test_nearest_folder_breaks_ties_and_warns() -> None:
    r = resolver(make_note("x/Note.md"), make_note("longer/Note.md"), make_note("x/src.md"))
    hit = res(r, "Note", source="x/src.md")
    assert hit.file == "x/Note.md"
    assert set(hit.candidates) == {"x/Note.md", "longer/Note.md"}
    assert codes(hit) == ["ambiguous-link"]
    assert hit.problems[0].file == "x/src.md" and hit.problems[0].line == 7


def test_ancestor_folder_does_not_count_as_nearest() -> None:
    r = resolver(make_note("a/Note.md"), make_note("b/c/Note.md"), make_note("b/c/d/src.md"))
    # Neither is beside the source; the shorter path string wins.
    assert res(r, "Note", source="b/c/d/src.md").file == "a/Note.md"


def test_root_exact_path_wins_even_over_same_folder() -> None:
    r = resolver(make_note("Note.md"), make_note("x/Note.md"), make_note("x/src.md"))
    hit = res(r, "Note", source="x/src.md")
    assert hit.file == "Note.md"
    assert codes(hit) == ["ambiguous-link"]


def test_shortest_path_then_lexicographic() -> None:
    r = resolver(make_note("bbb/Note.md"), make_note("aa/Note.md"), make_note("cc/Note.md"))
    assert res(r, "Note").file == "aa/Note.md"  # "aa/Note.md" and "cc/Note.md" tie on length


def test_title_resolves_without_warning() -> None:
    r = resolver(make_note("files/2024-01-x.md", title="Spike Timing"))
    hit = res(r, "spike timing")
    assert (hit.key, hit.file, hit.via, codes(hit)) == (
        "spike timing",
        "files/2024-01-x.md",
        "title",
        [],
    )


def test_alias_resolves_as_info() -> None:
    r = resolver(make_note("STDP.md", aliases=["spike-timing plasticity"]))
    hit = res(r, "Spike-Timing Plasticity")
    assert (hit.key, hit.via) == ("stdp", "alias")
    assert codes(hit) == ["alias-link"]
    assert hit.problems[0].severity == "info"
    assert "Obsidian leaves" in hit.problems[0].message


def test_loose_key_resolves_as_info() -> None:
    r = resolver(make_note("long_term potentiation.md"))
    hit = res(r, "Long-term Potentiation")
    assert (hit.key, hit.via, codes(hit)) == ("long_term potentiation", "key", ["loose-link"])


def test_attachment_by_literal_name() -> None:
    r = resolver(make_note("n.md"), files=("img/Figure 1.png",))
    hit = res(r, "figure 1.PNG", embed=True, relation="embeds")
    assert (hit.key, hit.file, hit.via) == (None, "img/Figure 1.png", "attachment")
    # Non-markdown files need their extension.
    assert res(r, "Figure 1").via == "unresolved"


def test_markdown_link_relative_first_then_vault_wide() -> None:
    r = resolver(make_note("a/My Note.md"), make_note("Sub/My Note.md"), make_note("a/src.md"))
    assert res(r, "My Note.md", source="a/src.md", kind="markdown").file == "a/My Note.md"
    hit = res(r, "Sub/My%20Note.md", source="a/src.md", kind="markdown")
    assert hit.file == "Sub/My Note.md"
    only = resolver(make_note("Sub/My Note.md"))
    assert res(only, "My%20Note.md", kind="markdown").file == "Sub/My Note.md"


def test_traversal_is_unsafe_and_unresolved() -> None:
    r = resolver(make_note("a/src.md"))
    for target in ("../../etc/passwd", "x/../../../etc/passwd"):
        hit = res(r, target, source="a/src.md")
        assert (hit.file, hit.key, hit.via) == (None, None, "unresolved")
        assert codes(hit) == ["unsafe-path"]
    md = res(r, "../../secret.md", source="a/src.md", kind="markdown")
    assert md.via == "unresolved" and codes(md) == ["unsafe-path"]


def test_empty_target_is_self_and_url_is_external() -> None:
    r = resolver(make_note("src.md"))
    hit = res(r, "", subpath="Heading")
    assert (hit.key, hit.file, hit.via, hit.subpath) == (None, "src.md", "self", "Heading")
    assert res(r, "https://example.org/x").via == "external"


def test_subpath_is_carried() -> None:
    r = resolver(make_note("Note.md"))
    assert res(r, "Note", subpath="A#B").subpath == "A#B"


def test_many_links_resolve_by_stem() -> None:
    notes = [make_note(f"f{i % 50}/n{i}.md") for i in range(10_000)]
    r = Resolver(notes, [n.path for n in notes])
    links = [Link(target=f"N{(i * 7) % 12_000}", line=1) for i in range(100_000)]
    sources = [notes[(i * 13) % 10_000].path for i in range(100_000)]
    hits = sum(r.resolve(ln, src).via == "stem" for ln, src in zip(links, sources, strict=True))
    assert hits == sum(1 for i in range(100_000) if (i * 7) % 12_000 < 10_000)


def test_same_anchor_in_two_files_stays_with_its_file() -> None:
    r = resolver(make_note("a.md"), make_note("b.md"))
    assert res(r, "", source="a.md").file == "a.md"
    assert res(r, "", source="b.md").file == "b.md"


def test_relative_link_depends_on_source_folder() -> None:
    r = resolver(make_note("x/t.md"), make_note("y/t.md"), make_note("x/s.md"), make_note("y/s.md"))
    assert res(r, "./t", source="x/s.md").file == "x/t.md"
    assert res(r, "./t", source="y/s.md").file == "y/t.md"


VIAS = {"path", "stem", "title", "alias", "key", "self", "attachment", "external", "unresolved"}
_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/#|[]\\"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() and not s.startswith(".") and s == s.strip())


@given(st.text(max_size=40), st.sampled_from(["wikilink", "markdown", "frontmatter"]))
def test_any_target_resolves_without_raising(target: str, kind: str) -> None:
    r = resolver(make_note("a/b.md", aliases=["x"]), make_note("c.md", title="T"))
    hit = r.resolve(Link(target=target, line=1, kind=kind), "a/src.md")  # type: ignore[arg-type]
    assert hit.via in VIAS
    assert hit.file is None or hit.file in {"a/b.md", "c.md", "a/src.md"}


@given(_names, st.booleans())
def test_unique_stem_resolves_in_any_case(name: str, upper: bool) -> None:
    r = resolver(make_note(f"deep/{name}.md"), make_note("other.md"))
    written = name.upper() if upper else name.lower()
    hit = res(r, written)
    if fold(written) == fold(name):  # some characters do not round-trip through case mapping
        assert hit.file == f"deep/{name}.md"
