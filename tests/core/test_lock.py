"""Two builds on one cache folder: the second is refused with a clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kgraph.lock import BuildLocked, build_lock


def test_second_holder_in_another_process_is_refused(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from kgraph.lock import build_lock, BuildLocked\n"
        "try:\n"
        "    with build_lock(Path(sys.argv[1])): print('got it')\n"
        "except BuildLocked as e: print('locked:', e)\n"
    )
    with build_lock(tmp_path):
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
        ).stdout
    assert out.startswith("locked:")
    assert "another kgraph build is running" in out
    # Released: the next holder gets it.
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "got it"


def test_lock_released_after_exception(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), build_lock(tmp_path):
        raise RuntimeError("boom")
    with build_lock(tmp_path):
        pass
    # flock is per open file description: a second open in one process conflicts too.
    with build_lock(tmp_path), pytest.raises(BuildLocked), build_lock(tmp_path):
        pass
