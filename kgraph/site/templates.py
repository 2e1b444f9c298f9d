"""Finding and loading the Jinja2 site templates (shipped ones, overridable by the user)."""

from __future__ import annotations

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
    """A Jinja2 environment with autoescape on; a user folder overrides single templates."""
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
