"""Counting what a loaded YAML value holds with its aliases expanded."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.vault.yamlsize import may_alias, too_big

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=40,
)


def expanded(value: Any) -> int:
    """Values in `value` counted by plain recursion: each container, key and leaf once."""
    if isinstance(value, dict):
        return 1 + sum(expanded(k) + expanded(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(expanded(v) for v in value)
    return 1


@given(VALUES, st.integers(0, 60))
@settings(max_examples=300, deadline=None)
def test_too_big_counts_as_plain_recursion_does(value: Any, limit: int) -> None:
    assert too_big(value, limit) == (expanded(value) > limit)


@given(VALUES)
@settings(max_examples=100, deadline=None)
def test_yaml_without_a_star_holds_no_alias(value: Any) -> None:
    text = yaml.safe_dump(value)
    if not may_alias(text):
        assert "*" not in text
        assert yaml.safe_load(text) == value


def test_shared_values_count_once_per_use() -> None:
    leaf = ["a", "b"]  # 3 values
    assert not too_big([leaf, leaf], limit=7)  # 1 + 3 + 3
    assert too_big([leaf, leaf], limit=6)
    loop: list[Any] = [1]
    loop.append(loop)
    assert too_big(loop, limit=1000)
