"""Signature digests: equal values digest alike whatever objects they share; different
values (as repr tells them apart) digest apart."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.digest import value_digest as _digest

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.lists(inner, max_size=5).map(tuple)),
    max_leaves=30,
)


def rebuilt(value: Any) -> Any:
    """An equal value made of new objects (strings included)."""
    if isinstance(value, str):
        return "".join([value[:1], value[1:]])
    if isinstance(value, list):
        return [rebuilt(v) for v in value]
    if isinstance(value, tuple):
        return tuple(rebuilt(v) for v in value)
    return value


@given(VALUES)
@settings(max_examples=300)
def test_equal_values_digest_alike(value: Any) -> None:
    assert _digest([value]) == _digest([rebuilt(value)])
    assert _digest([value, value]) == _digest([value, rebuilt(value)])  # shared or not


@given(VALUES, VALUES)
@settings(max_examples=300)
def test_different_values_digest_apart(a: Any, b: Any) -> None:
    if repr(a) != repr(b):
        assert _digest([a]) != _digest([b])
    else:
        assert _digest([a]) == _digest([b])


def test_types_that_compare_equal_still_differ() -> None:
    digests = {_digest([v]) for v in (1, 1.0, True, "1", (1,), [1])}
    assert len(digests) == 6


def test_an_unpicklable_value_still_digests() -> None:
    class Local:  # a class defined in a function cannot be pickled
        def __repr__(self) -> str:
            return "Local()"

    before = _digest(["x", 1])
    assert _digest([Local()]) == _digest([Local()])
    assert _digest(["x", 1]) == before  # the failed pickling left nothing behind


@given(VALUES, st.integers(min_value=8, max_value=32))
def test_the_size_asked_for_is_given(value: Any, size: int) -> None:
    got = _digest(value, size=size)
    assert len(got) == 2 * size and int(got, 16) >= 0
    assert got == _digest(rebuilt(value), size=size)
