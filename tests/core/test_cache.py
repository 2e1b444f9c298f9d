"""Checked pickle files: round trip, and every way a cache can be untrustworthy."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.cache import MAGIC, CacheError, read_pickle, write_pickle


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.pickle"
    write_pickle(path, "parse", {"a": [1, 2, 3]})
    assert read_pickle(path, "parse") == {"a": [1, 2, 3]}
    assert not list(tmp_path.glob("*.tmp")), "temporary files must not be left behind"


def test_missing_file_is_not_an_error_of_trust(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_pickle(tmp_path / "absent.pickle", "parse")


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.pickle"
    write_pickle(path, "parse", list(range(1000)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(CacheError, match="checksum"):
        read_pickle(path, "parse")


def test_flipped_byte_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.pickle"
    write_pickle(path, "parse", "x" * 100)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CacheError):
        read_pickle(path, "parse")


def test_foreign_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.pickle"
    path.write_bytes(b"\x80\x04not ours at all")
    with pytest.raises(CacheError, match="not a kgraph"):
        read_pickle(path, "parse")


def test_other_kind_or_version_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.pickle"
    write_pickle(path, "parse", 1)
    with pytest.raises(CacheError):
        read_pickle(path, "pages")
    data = path.read_bytes().replace(MAGIC + b"parse ", MAGIC + b"parse 0.0.0-old ", 1)
    path.write_bytes(data)
    with pytest.raises(CacheError):
        read_pickle(path, "parse")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.data())
def test_any_damaged_byte_or_cut_is_rejected(value: bytes, data: st.DataObject) -> None:
    """Every single-byte change and every truncation is caught before unpickling (a
    CRC-32 catches every error burst up to 32 bits; the length catches every cut)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pickle"
        write_pickle(path, "parse", value)
        good = path.read_bytes()
        at = data.draw(st.integers(0, len(good) - 1), label="position")
        flip = data.draw(st.integers(1, 255), label="xor")
        damaged = bytearray(good)
        damaged[at] ^= flip
        path.write_bytes(bytes(damaged))
        with pytest.raises(CacheError):
            read_pickle(path, "parse")
        cut = data.draw(st.integers(0, len(good) - 1), label="cut")
        path.write_bytes(good[:cut])
        with pytest.raises(CacheError):
            read_pickle(path, "parse")
        path.write_bytes(good)
        assert read_pickle(path, "parse") == value
