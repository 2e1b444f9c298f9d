"""Output paths from slugs, and relative URLs between pages."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Top-level names the site itself uses; a concept slug equal to one of them is moved aside.
RESERVED = frozenset(
    {
        "tags",
        "all",
        "wanted",
        "figures",
        "graph",
        "search",
        "pagefind",
        "_kgraph",
        "_files",
        "_figures",
    }
    | {"index.html", "404.html"}
)

_UNSAFE = re.compile(r"[^\w.~-]+")
# A file name holds 255 bytes; a segment leaves room for a `-2` or a `.json` after it.
SEGMENT_BYTES = 200


def clean_segment(text: str) -> str:
    """One URL path segment: NFC, unsafe characters to `-`, never `.` or `..`."""
    seg = _UNSAFE.sub("-", unicodedata.normalize("NFC", text)).strip("-.")
    return fit_segment(seg.casefold())


def fit_segment(seg: str, limit: int = SEGMENT_BYTES) -> str:
    """`seg` if it fits in `limit` bytes of UTF-8, else its start and a hash of the whole: a
    long title still gets a page (its file name would not fit), one that stays put and
    differs from the page of another title that starts the same way."""
    data = seg.encode("utf-8")
    if len(data) <= limit:
        return seg
    head = data[: limit - 9].decode("utf-8", "ignore").rstrip("-.")
    return f"{head}-{hashlib.blake2b(data, digest_size=4).hexdigest()}"


def safe_slug(slug: str, fallback: str = "untitled") -> str:
    """A slug that cannot leave the output folder: segments cleaned, empty ones dropped."""
    parts = [clean_segment(p) for p in slug.replace("\\", "/").split("/")]
    parts = [p for p in parts if p]
    return "/".join(parts) or fallback


def page_path(slug: str) -> str:
    """The file of a pretty-URL page: `slug/index.html` (or `index.html` for the home page)."""
    return f"{slug}/index.html" if slug else "index.html"


def relative_url(from_path: str, to_path: str, fragment: str | None = None) -> str:
    """A link from the page file `from_path` to the output file `to_path`, both output-relative."""
    if to_path == from_path and fragment:
        return "#" + fragment
    # Most links go from a page one folder deep (`slug/index.html`) to another folder.
    slash = from_path.find("/")
    if (
        slash > 0
        and "/" not in from_path[slash + 1 :]
        and not to_path.startswith(from_path[: slash + 1])
    ):
        return "../" + to_path + ("#" + fragment if fragment else "")
    # Pure string work: both paths are clean and output-relative (relpath would hit the disk cwd).
    start = from_path.split("/")[:-1]
    target = to_path.split("/")
    common = 0
    while common < len(start) and common < len(target) - 1 and start[common] == target[common]:
        common += 1
    url = "../" * (len(start) - common) + "/".join(target[common:])
    return url + ("#" + fragment if fragment else "")


def root_prefix(from_path: str) -> str:
    """The relative prefix (`../../`) from a page to the site root; empty at the root."""
    depth = from_path.count("/")
    return "../" * depth
