"""Command line: parse arguments, call one function per verb, set the exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgraph import __version__

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2

QUERY_VERBS = (
    "show",
    "neighbors",
    "backlinks",
    "path",
    "tag",
    "orphans",
    "unresolved",
    "hubs",
    "relations",
    "figures",
)


def _count(value: str) -> int:
    """A whole number of at least 1 (jobs, depth, top)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgraph",
        description="Compile a Markdown vault into a concept graph, figures and a static site.",
    )
    parser.add_argument("--version", action="version", version=f"kgraph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="build the site (runs the vault's model cells)")
    p.add_argument("vault", nargs="?", default="notes", help="vault folder (default: ./notes)")
    p.add_argument("-o", "--out", default="site", help="output folder (default: ./site)")
    p.add_argument("--no-exec", action="store_true", help="do not run cells; use cached results")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--jobs", type=_count, default=None, help="worker processes (default: cores)")
    p.add_argument("--report", metavar="FILE", help="write the build report as JSON")
    p.add_argument("--base-url", default=None, help="URL path the site is served under")
    p.add_argument("--quiet", action="store_true", help="print only problems")

    p = sub.add_parser("check", help="report every problem a build would warn about")
    p.add_argument("vault", nargs="?", default="notes")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")

    p = sub.add_parser("query", help="ask about concepts and their relations")
    p.add_argument("--vault", default="notes", help="vault folder (default: ./notes)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    v = verbs.add_parser("show", help="a concept: names, tags, notes, relations, figures")
    v.add_argument("concept")
    v = verbs.add_parser("neighbors", help="concepts related to a concept")
    v.add_argument("concept")
    v.add_argument("--relation", default=None, help="only this relation (e.g. see_also)")
    v.add_argument("--direction", choices=("out", "in", "both"), default="both")
    v.add_argument("--depth", type=_count, default=1)
    v = verbs.add_parser("backlinks", help="concepts that link to a concept")
    v.add_argument("concept")
    v = verbs.add_parser("path", help="shortest chain of relations between two concepts")
    v.add_argument("a")
    v.add_argument("b")
    v = verbs.add_parser("tag", help="concepts with a tag (nested tags included)")
    v.add_argument("tag")
    verbs.add_parser("orphans", help="notes with no relation in or out")
    verbs.add_parser("unresolved", help="wanted concepts and who wants them")
    v = verbs.add_parser("hubs", help="the most central concepts")
    v.add_argument("--top", type=_count, default=10)
    verbs.add_parser("relations", help="edge count per relation")
    verbs.add_parser("figures", help="computed figures and their concepts")

    p = sub.add_parser("export", help="write the graph for Gephi, Cytoscape or networkx")
    p.add_argument("vault", nargs="?", default="notes")
    p.add_argument("--format", choices=("graphml", "gexf", "json", "csv"), required=True)
    p.add_argument("-o", "--out", required=True, help="output file")

    p = sub.add_parser("serve", help="build, serve, watch and live-reload")
    p.add_argument("vault", nargs="?", default="notes")
    p.add_argument("-o", "--out", default="site")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-exec", action="store_true")
    p.add_argument("--jobs", type=_count, default=None)
    return parser


def _vault_or_exit(path: str) -> Path | None:
    vault = Path(path)
    if not vault.is_dir():
        print(f"kgraph: error: no vault folder at {path}", file=sys.stderr)
        return None
    return vault


def _print_problems(problems: Sequence[Any], vault_arg: str) -> None:
    from kgraph.problems import problem_line

    for p in problems:
        print(problem_line(p, vault_arg))


def cmd_check(args: argparse.Namespace) -> int:
    from kgraph.check import check_vault

    vault = _vault_or_exit(args.vault)
    if vault is None:
        return EXIT_USAGE
    problems = check_vault(vault)
    if args.format == "json":
        print(json.dumps([p.to_json() for p in problems], indent=2, ensure_ascii=False))
    else:
        _print_problems(problems, args.vault)
    bad = {"error", "warning"} if args.strict else {"error"}
    return EXIT_ERRORS if any(p.severity in bad for p in problems) else EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    from kgraph.graph import query
    from kgraph.snapshot import load_graph

    vault = _vault_or_exit(args.vault)
    if vault is None:
        return EXIT_USAGE
    cg = load_graph(vault)
    verb = args.verb
    try:
        if verb == "show":
            result: Any = query.show(cg, args.concept)
        elif verb == "neighbors":
            result = query.neighbors(cg, args.concept, args.relation, args.direction, args.depth)
        elif verb == "backlinks":
            result = query.backlinks(cg, args.concept)
        elif verb == "path":
            result = query.path(cg, args.a, args.b)
        elif verb == "tag":
            result = query.tag(cg, args.tag)
        elif verb == "hubs":
            result = query.hubs(cg, args.top)
        else:
            result = getattr(query, verb)(cg)
    except query.UnknownConcept as exc:
        hint = f" (did you mean: {', '.join(exc.suggestions)}?)" if exc.suggestions else ""
        print(f"kgraph: unknown concept {exc.name!r}{hint}", file=sys.stderr)
        return EXIT_ERRORS
    if args.format == "json":
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(query.format_text(verb, result))
    return EXIT_OK


def _exit_fast(code: int) -> None:
    """End the process without tearing down a large graph object by object.

    Freeing a 10,000-note graph at exit takes longer than answering a query, and most
    of a second after a build (every pool and file is closed by then).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_export(args: argparse.Namespace) -> int:
    import kgraph
    from kgraph.graph.export import export_graph

    vault = _vault_or_exit(args.vault)
    if vault is None:
        return EXIT_USAGE
    graph = kgraph.load(vault).concept_graph
    try:
        written = export_graph(graph, args.format, Path(args.out))
    except OSError as exc:  # a folder, or a file where a folder should be
        print(f"kgraph: error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERRORS
    for path in written:
        print(path)
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from kgraph.gcpause import paused_gc

    with paused_gc():  # modules live until exit: a collection would only rescan them
        from kgraph.build import build

    vault = _vault_or_exit(args.vault)
    if vault is None:
        return EXIT_USAGE
    return build(
        vault,
        Path(args.out),
        execute=not args.no_exec,
        strict=args.strict,
        jobs=args.jobs,
        report_path=Path(args.report) if args.report else None,
        base_url=args.base_url,
        quiet=args.quiet,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from kgraph.serve import serve

    vault = _vault_or_exit(args.vault)
    if vault is None:
        return EXIT_USAGE
    return serve(
        vault,
        Path(args.out),
        host=args.host,
        port=args.port,
        execute=not args.no_exec,
        jobs=args.jobs,
    )


COMMANDS = {
    "build": cmd_build,
    "check": cmd_check,
    "query": cmd_query,
    "export": cmd_export,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if argv is None and args.command != "serve":
        from kgraph import gcpause

        gcpause.one_shot = True  # the process ends after this command
    try:
        code = COMMANDS[args.command](args)
        if argv is None and args.command != "serve":
            _exit_fast(code)  # only as a program: callers of main() get their return
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kgraph query ... | head` closed the pipe: not an error of ours.
        return EXIT_OK
