"""Make the vault-local `models` package importable, as the cell runner does."""

from __future__ import annotations

import sys
from pathlib import Path

VAULT = Path(__file__).resolve().parents[2] / "notes"
if str(VAULT) not in sys.path:
    sys.path.insert(0, str(VAULT))
