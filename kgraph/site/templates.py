"""Finding and loading the Jinja2 site templates (shipped ones, overridable by the user)."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path

import jinja2

import kgraph
from kgraph import gcpause


def template_root() -> Path:
    """The shipped template folder: packaged inside `kgraph`, else the source checkout's."""
    package = Path(kgraph.__file__).parent
    inside = package / "site_templates"
    if inside.is_dir():
        return inside
    return package.parent / "site_templates"


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between processes: compiling the shipped ones takes 0.2 s,
    a twentieth of a one-note edit at 10,000 notes. Jinja checks each against its
    template's source; one that cannot be written is only not kept."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def make_environment(
    user_templates: Path | None = None, cache_dir: Path | None = None
) -> jinja2.Environment:
    """A Jinja2 environment with autoescape on; a user folder overrides single templates.
    With `cache_dir`, compiled templates are kept in its `templates` folder.

    Reused while the user folder lists the same files, so later builds in one process
    (`serve`) skip compiling; Jinja itself reloads a template whose file changed.
    """
    listing: tuple[str, ...] = ()
    if user_templates is not None and user_templates.is_dir():
        listing = tuple(sorted(p.as_posix() for p in user_templates.rglob("*") if p.is_file()))
    # A process that ends after one build cannot see its templates change: Jinja need not
    # stat a template's file each time it is fetched (five times a page, 50,000 calls at
    # 10,000 pages). The dev server keeps its environment and needs the check.
    return _environment(user_templates, listing, cache_dir, not gcpause.one_shot)


@lru_cache(maxsize=8)
def _environment(
    user_templates: Path | None,
    listing: tuple[str, ...],
    cache_dir: Path | None,
    reload: bool,
) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None and user_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
    loaders.append(jinja2.FileSystemLoader(str(template_root())))
    kept: jinja2.BytecodeCache | None = None
    if cache_dir is not None:
        folder = cache_dir / "templates"
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            kept = _TemplateCache(str(folder))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=kept,
        auto_reload=reload,
    )
