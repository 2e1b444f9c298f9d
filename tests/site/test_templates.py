"""Compiled templates are kept between processes, and never trusted over their source."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from kgraph.site import templates
from kgraph.site.templates import _TemplateCache, make_environment


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The names of the templates Jinja compiles from source."""
    names: list[str | None] = []
    real = jinja2.Environment.compile

    def compile(self: jinja2.Environment, source: str, name: str | None = None, *a, **k):  # type: ignore[no-untyped-def]
        names.append(name)
        return real(self, source, name, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return names


def fresh(user: Path, cache: Path | None) -> jinja2.Environment:
    templates._environment.cache_clear()  # as in a new process
    return make_environment(user, cache)


def test_a_new_process_loads_compiled_templates(tmp_path: Path, compiled: list) -> None:
    user, cache = tmp_path / "tpl", tmp_path / "cache"
    user.mkdir()
    (user / "x.html").write_text("A {{ v }}")
    assert fresh(user, cache).get_template("x.html").render(v=1) == "A 1"
    assert compiled == ["x.html"] and any((cache / "templates").iterdir())
    compiled.clear()
    assert fresh(user, cache).get_template("x.html").render(v=2) == "A 2"
    assert compiled == []  # loaded, not compiled
    (user / "x.html").write_text("B {{ v }}")
    assert fresh(user, cache).get_template("x.html").render(v=3) == "B 3"
    assert compiled == ["x.html"]  # its source changed: compiled again


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path, compiled: list) -> None:
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "x.html").write_text("A {{ v }}")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    assert fresh(user, blocked).get_template("x.html").render(v=1) == "A 1"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(user)),
        bytecode_cache=_TemplateCache(str(tmp_path / "no such folder")),
    )
    assert env.get_template("x.html").render(v=2) == "A 2"


def test_only_a_long_running_process_checks_its_templates_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kgraph import gcpause

    user = tmp_path / "templates"
    user.mkdir()
    (user / "404.html").write_text("first")
    monkeypatch.setattr(gcpause, "one_shot", False)
    served = fresh(user, None)
    assert served.get_template("404.html").render() == "first"
    monkeypatch.setattr(gcpause, "one_shot", True)
    once = make_environment(user, None)
    assert once is not served and not once.auto_reload  # a one-shot build's own
    assert once.get_template("404.html").render() == "first"
    (user / "404.html").write_text("second")
    stamp = (user / "404.html").stat().st_mtime + 10
    os.utime(user / "404.html", (stamp, stamp))  # surely another mtime than the first's
    assert once.get_template("404.html").render() == "first"  # not looked at again
    monkeypatch.setattr(gcpause, "one_shot", False)
    assert make_environment(user, None) is served
    assert served.get_template("404.html").render() == "second"
