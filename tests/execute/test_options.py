from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kgraph.execute.options import interpret_options


def test_defaults() -> None:
    opts = interpret_options({})
    assert (opts.label, opts.caption, opts.echo, opts.eval) == (None, "", True, True)
    assert (opts.timeout, opts.depends, opts.exec) == (None, (), False)


def test_quarto_names_and_caption_alias() -> None:
    opts = interpret_options(
        {"label": "fig-stdp", "caption": "STDP window", "echo": False, "eval": "no", "timeout": 5}
    )
    assert opts.label == "fig-stdp"
    assert opts.caption == "STDP window"
    assert opts.echo is False and opts.eval is False
    assert opts.timeout == 5.0


def test_fig_cap_wins_over_caption_and_lists_give_one_caption_per_figure() -> None:
    assert interpret_options({"fig-cap": "A", "caption": "B"}).caption == "A"
    opts = interpret_options({"fig-cap": ["first", "second"]})
    assert [opts.caption_for(n) for n in range(3)] == ["first", "second", ""]


def test_depends_accepts_list_or_string() -> None:
    assert interpret_options({"depends": ["a.csv", "b/c.txt"]}).depends == ("a.csv", "b/c.txt")
    assert interpret_options({"depends": "a.csv, b.csv"}).depends == ("a.csv", "b.csv")


def test_bad_values_fall_back_to_defaults() -> None:
    opts = interpret_options({"timeout": "soon", "echo": "maybe", "eval": None, "exec": "yes"})
    assert opts.timeout is None and opts.echo is True and opts.eval is True
    assert opts.exec is True
    assert interpret_options({"timeout": "10s"}).timeout == 10.0
    assert interpret_options({"timeout": -3}).timeout is None


def test_unknown_options_are_kept() -> None:
    as_dict = interpret_options({"fig-width": 6, "label": "fig-a"}).as_dict()
    assert as_dict["fig-width"] == 6
    assert as_dict["label"] == "fig-a"


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values: st.SearchStrategy[Any] = scalars | st.lists(scalars, max_size=4)


@given(
    st.dictionaries(
        st.sampled_from(
            ["label", "fig-cap", "caption", "echo", "eval", "timeout", "depends", "exec", "other"]
        ),
        values,
    )
)
def test_any_option_values_are_interpreted_without_raising(raw: dict[str, Any]) -> None:
    opts = interpret_options(raw)
    assert isinstance(opts.echo, bool) and isinstance(opts.eval, bool)
    assert opts.timeout is None or opts.timeout > 0
    assert all(isinstance(name, str) and name for name in opts.depends)
