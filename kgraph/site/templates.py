"""Finding and loading the Jinja2 site templates (shipped ones, overridable by the user)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

import kgraph


def template_root() -> Path:
    """The shipped template folder: packaged inside `kgraph`, else the source checkout's."""
    package = Path(kgraph.__file__).parent
    inside = package / "site_templates"
    if inside.is_dir():
        return inside
    return package.parent / "site_templates"


def make_environment(user_templates: Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment with autoescape on; a user folder overrides single templates.

    Reused while the user folder lists the same files, so later builds in one process
    (`serve`) skip compiling; Jinja itself reloads a template whose file changed.
    """
    listing: tuple[str, ...] = ()
    if user_templates is not None and user_templates.is_dir():
        listing = tuple(sorted(p.as_posix() for p in user_templates.rglob("*") if p.is_file()))
    return _environment(user_templates, listing)


@lru_cache(maxsize=8)
def _environment(user_templates: Path | None, listing: tuple[str, ...]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None and user_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
    loaders.append(jinja2.FileSystemLoader(str(template_root())))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
