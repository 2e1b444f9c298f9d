"""Cache keys for cells: what a result depends on, found statically with `ast`."""

from __future__ import annotations

import ast
import hashlib
import json
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

KEY_VERSION = "1"  # bump when the key recipe or the cached result format changes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, so equal values hash equally."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (ValueError, TypeError):
        return repr(value)  # self-referencing YAML or keys that do not sort


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        # kgraph run from a source checkout has no installed metadata
        module = sys.modules.get(dist)
        return str(getattr(module, "__version__", "unknown"))


def runtime_versions() -> dict[str, str]:
    """Versions that change what a cell computes: Python, numpy, matplotlib, kgraph."""
    return {
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "matplotlib": _version("matplotlib"),
        "kgraph": _version("kgraph"),
    }


def imported_names(tree: ast.AST, package: str | None = None) -> set[str]:
    """Absolute dotted names a module imports; `package` resolves relative imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if package is None:
                    continue
                parts = package.split(".") if package else []
                # level 1 is the package itself, each extra dot climbs one package up
                if node.level - 1 > len(parts):
                    continue
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            if not base:
                names.update(alias.name for alias in node.names if alias.name != "*")
                continue
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _parse(source: bytes) -> ast.AST | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


@dataclass
class ModuleFinder:
    """Finds the vault-local modules a piece of code imports, transitively (memoised per run)."""

    vault: Path
    _files: dict[str, Path | None] = field(default_factory=dict)
    _info: dict[Path, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def module_file(self, name: str) -> Path | None:
        """`a.b` -> vault/a/b.py or vault/a/b/__init__.py, if it exists."""
        if name not in self._files:
            parts = name.split(".")
            base = self.vault.joinpath(*parts)
            found: Path | None = None
            for candidate in (base.with_name(parts[-1] + ".py"), base / "__init__.py"):
                if candidate.is_file():
                    found = candidate
                    break
            self._files[name] = found
        return self._files[name]

    def _module_info(self, path: Path, name: str) -> tuple[str, frozenset[str]]:
        if path not in self._info:
            try:
                source = path.read_bytes()
            except OSError:
                source = b""
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            tree = _parse(source)
            imports = imported_names(tree, package) if tree is not None else set()
            self._info[path] = (sha256(source), frozenset(imports))
        return self._info[path]

    def modules(self, code: str) -> dict[str, str]:
        """Vault-relative path -> sha256 of every vault module `code` imports, transitively."""
        tree = _parse(code.encode("utf-8"))
        pending = sorted(imported_names(tree)) if tree is not None else []
        seen: set[str] = set()
        found: dict[str, str] = {}
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            parts = name.split(".")
            # importing a.b.c runs a/__init__.py and a/b/__init__.py too
            pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
            path = self.module_file(name)
            if path is None:
                continue
            digest, imports = self._module_info(path, name)
            found[path.relative_to(self.vault).as_posix()] = digest
            pending.extend(sorted(imports - seen))
        return dict(sorted(found.items()))


def depends_digests(vault: Path, files: tuple[str, ...]) -> dict[str, str]:
    """sha256 of each `depends` file; a missing or out-of-vault file hashes as a marker."""
    root = vault.resolve()
    out: dict[str, str] = {}
    for name in files:
        try:
            path = (root / name).resolve()
        except (OSError, ValueError):
            out[name] = "unreadable"
            continue
        if not path.is_relative_to(root):
            out[name] = "outside-vault"
            continue
        try:
            out[name] = sha256(path.read_bytes())
        except OSError:
            out[name] = "missing"
    return out


def cell_key(
    *,
    codes: list[str],
    options: dict[str, Any],
    params: dict[str, Any],
    modules: dict[str, str],
    depends: dict[str, str],
    label_base: str,
    versions: dict[str, str],
) -> str:
    """Hex key of one cell: `codes` holds the note's cells up to and including this one."""
    material = {
        "v": KEY_VERSION,
        "codes": codes,
        "options": options,
        "params": params,
        "modules": modules,
        "depends": depends,
        "label_base": label_base,
        "versions": versions,
    }
    return sha256(canonical_json(material).encode("utf-8"))
