from __future__ import annotations

import unicodedata

from graphnotes import make_note
from hypothesis import given
from hypothesis import strategies as st

from kgraph.graph.keys import assign_keys, concept_key, loose_key, slugify


def test_concept_key_normalises_case_space_and_unicode() -> None:
    decomposed = unicodedata.normalize("NFD", "Café")
    assert concept_key(f"  {decomposed}\t au \n LAIT ") == "café au lait"
    assert concept_key("STRASSE") == concept_key("straße")


def test_loose_key_treats_dash_underscore_space_alike() -> None:
    assert loose_key("spike_timing-dependent  plasticity") == "spike timing dependent plasticity"
    assert loose_key("A-B") == loose_key("a_b") == loose_key("a b")


def test_slugify_examples() -> None:
    assert slugify("Café au lait") == "cafe-au-lait"
    assert slugify("What? #1 / x") == "what-1-x"
    assert slugify("日本語 ノート") == "日本語-ノート"
    assert slugify("???") == "concept"


@given(st.text())
def test_keys_are_idempotent(name: str) -> None:
    assert concept_key(concept_key(name)) == concept_key(name)
    assert loose_key(loose_key(name)) == loose_key(name)


@given(st.text())
def test_slug_is_url_safe(name: str) -> None:
    slug = slugify(name)
    assert slug
    assert not set(slug) & set("/?#%& \t\n")
    assert slug == slugify(slug)


def test_untitled_same_stem_files_get_folder_keys() -> None:
    notes = [make_note("a/index.md"), make_note("b/index.md"), make_note("index.md")]
    assert assign_keys(notes) == ["a/index", "b/index", "index"]


def test_titled_note_merges_with_untitled_stem() -> None:
    notes = [make_note("Neuron.md"), make_note("x/n2.md", title="neuron")]
    assert assign_keys(notes) == ["neuron", "neuron"]


def test_two_untitled_notes_in_one_file_share_a_key() -> None:
    notes = [make_note("a/x.md"), make_note("a/x.md", index=1, line=9)]
    assert assign_keys(notes) == ["x", "x"]
