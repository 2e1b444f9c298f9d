from __future__ import annotations

import matplotlib.pyplot as plt
from hypothesis import given
from hypothesis import strategies as st

from kgraph.execute.worker import BoundedText, NoteSession


@given(st.lists(st.text(max_size=50), max_size=20), st.integers(min_value=1, max_value=100))
def test_bounded_text_keeps_a_prefix_and_counts_the_rest(parts: list[str], limit: int) -> None:
    out = BoundedText(limit)
    for part in parts:
        assert out.write(part) == len(part)
    whole = "".join(parts)
    value = out.getvalue()
    assert value.startswith(whole[:limit])
    assert out.kept + out.dropped == len(whole)
    assert ("truncated" in value) == (len(whole) > limit)


def test_session_maps_cell_lines_and_keeps_namespace(tmp_path: object) -> None:
    plt.close("all")  # figures other tests left open in this process are not ours
    session = NoteSession(str(tmp_path), "n.md", {"k": 3})
    ok = session.run({"index": 0, "code": "v = params['k'] + 1\nprint(v)", "offset": 4})
    assert (ok["status"], ok["stdout"], ok["figures"]) == ("ok", "4\n", [])
    bad = session.run({"index": 1, "code": "w = v\nassert w == 5, 'not five'", "offset": 8})
    assert bad["status"] == "error"
    assert 'File "n.md", line 10, in <module>' in bad["error"]
    assert bad["error"].endswith("AssertionError: not five")
