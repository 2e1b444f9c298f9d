"""The cycle collector pause: nothing changes for a server; a one-shot build freezes."""

from __future__ import annotations

import gc

import pytest

from kgraph import gcpause
from kgraph.gcpause import paused_gc


@pytest.fixture(autouse=True)
def _restore() -> object:
    was = gcpause.one_shot
    yield
    gcpause.one_shot = was
    gc.unfreeze()
    gc.enable()


def test_the_pause_restores_the_collector_and_nests() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not resume it
    assert gc.isenabled()


def test_a_long_running_process_freezes_nothing() -> None:
    gcpause.one_shot = False
    gc.unfreeze()
    with paused_gc():
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == 0 and len(kept) == 1000


def test_a_one_shot_process_freezes_what_the_block_built() -> None:
    gcpause.one_shot = True
    gc.unfreeze()
    with paused_gc():
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() >= 1000 and len(kept) == 1000
