from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sitehelpers import build_vault, neuron_cells

from kgraph.site.output import SiteOutput


@pytest.fixture(scope="session")
def basic_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SiteOutput]:
    """The `basic` vault rendered once with a fake cell result, written to disk."""
    tmp = tmp_path_factory.mktemp("basic")
    return build_vault("basic", tmp, cells=neuron_cells(tmp))
