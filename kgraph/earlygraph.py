"""The global graph of a command-line edit, laid out by a process forked before reading.

An edit that changes links changes the global graph, and its layout (0.85 s at 10,000
concepts, twice that beside the rest of the build) is the last thing such a build waits
for. Reading the vault and loading the kept graph take the build's first two seconds on
one core; a process forked before that reads the vault the same way on the other core,
relinks the kept graph, and renders the graph page, so it is ready while the build still
renders the rest.

The build takes it only when the process read the same vault: the same files, each note
file with the same digest (`vault_digest` of what each side read), so linking gave the
same graph. Otherwise, or if the process failed, the graph page is rendered as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kgraph.config import Config
from kgraph.site.output import SiteOutput
from kgraph.site.parallel import PARALLEL_MIN_PAGES, EarlyPart

PARTS = frozenset({"graph"})


def vault_digest(files: Sequence[str], digests: Mapping[str, str]) -> str:
    """What linking depends on from the vault: its files, and each note file's bytes."""
    from kgraph.digest import value_digest

    return value_digest([list(files), sorted(digests.items())])


def worth_starting(record: Path) -> bool:
    """Whether the last build (its no-op record) had a vault large enough for an early
    layout to pay, and no cells (whose figures join the graph only once they have run)."""
    try:
        report = json.loads(record.read_text(encoding="utf-8"))["report"]
        concepts, cells = int(report["concepts"]), report["cells"]
        ran = sum(int(v) for v in cells.values()) if isinstance(cells, dict) else int(cells)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return concepts >= PARALLEL_MIN_PAGES and ran == 0


class EarlyGraph(EarlyPart):
    """`EarlyPart` for the graph page, started before the build has read the vault.
    `expect` tells it what the build read; `result` is None unless the process read the
    same."""

    def __init__(self, config: Config, kept: Path) -> None:
        self.expected: str | None = None
        self._start(PARTS, _child, config, kept)

    def expect(self, digest: str) -> None:
        self.expected = digest

    def result(self) -> SiteOutput | None:
        got = self._received()
        if not isinstance(got, tuple) or len(got) != 2 or got[0] != self.expected:
            return None
        return got[1] if isinstance(got[1], SiteOutput) else None


def _child(writer: Any, config: Config, kept: Path) -> None:
    """Read, relink and render the graph page as the build will; send (vault digest,
    pages), or nothing when the kept graph was not relinked with new edges."""
    try:
        from kgraph.graph.kept import load_kept
        from kgraph.site.parallel import _indexes
        from kgraph.site.render import site_renderer
        from kgraph.vault.load import load_vault

        data = load_vault(
            config.vault,
            ignore=config.ignore,
            cache_dir=config.cache_dir,
            jobs=1,
            exclude_dirs=(config.out, config.cache_dir),
            write_cache=False,
        )
        digests = {rel: item.digest for rel, item in data.parsed.items()}
        cg, _, new_edges = load_kept(kept, data.notes, data.files, digests, data.replaced)
        if cg is None or not new_edges:
            return
        renderer = site_renderer(cg, config, cells={})
        out = _indexes(cg, config, {}, renderer, PARTS)
        writer.send((vault_digest(data.files, digests), out))
    except BaseException:  # Ctrl-C or a failure: the build lays the graph out itself
        pass
    finally:
        writer.close()
