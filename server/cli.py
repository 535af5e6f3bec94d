"""`kg`: build, validate, query and serve the knowledge graph.

Exit codes: 0 success / conforms, 1 does not conform (or a build refused to publish),
2 bad input or usage (unreadable file, syntax error, unknown flag).
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import click

from .curation import dates
from .errors import KGError
from .settings import SETTINGS, Settings, load_settings

_BY_NAME = {s.name: s for s in SETTINGS}


def setting_option(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option for a setting: its flag, its KG_ variable, its help from the one table."""
    s = _BY_NAME[name]
    if isinstance(s.default, bool):
        return click.option(f"{s.flag}/--no-{s.flag[2:]}", name, envvar=s.env, default=None,
                            help=f"{s.help} [env {s.env}; default {'on' if s.default else 'off'}]", show_envvar=False)
    kind = click.Choice(s.choices) if s.choices else type(s.default)
    return click.option(s.flag, name, envvar=s.env, default=None, type=kind,
                        help=f"{s.help} [env {s.env}; default {s.default!r}]", show_envvar=False)


REMOTE_SETTINGS = ("remote_query_url", "remote_update_url", "remote_gsp_url", "remote_user", "remote_password",
                   "remote_union_param")


def remote_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The remote store's settings on a command (see the README, Scale)."""
    for name in reversed(REMOTE_SETTINGS):
        command = setting_option(name)(command)
    return command


@contextmanager
def remote_store(settings: Settings):  # type: ignore[no-untyped-def]
    """The remote store's client when one is set (closed at the end), else None: the embedded store."""
    from .store.remote import RemoteStore

    remote = RemoteStore(settings) if settings.remote else None
    try:
        yield remote
    finally:
        if remote is not None:
            remote.close()


def settings_from(**values: Any) -> Settings:
    return load_settings({k: v for k, v in values.items() if k in _BY_NAME})


def fail(exc: KGError) -> None:
    """One line (or the report) on stderr, and the error's exit code. Never a traceback."""
    click.echo(f"kg: error: {exc.message}", err=True)
    sys.exit(exc.exit_code)


class _Group(click.Group):
    """Errors of the machine (a read-only store directory, a full disk, a missing permission) are
    one line too, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            sys.exit(0)  # `kg query … | head`
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            what = exc.strerror or str(exc)
            click.echo(f"kg: error: {where}{what} (is the store directory read-only, or the disk full?)", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kars-gyumri-kg")
def main() -> None:
    """The Kars–Gyumri knowledge graph: build it, check it, query it, serve it."""


@main.command()
@setting_option("store")
@setting_option("base_iri")
@setting_option("extra_sources")
@setting_option("project_dir")
@click.option("--drop-unapplied-changes", "drop_unapplied", is_flag=True,
              help="Publish without the accepted changes that no longer apply to the files (or whose patch is "
                   "missing); they stay in the change log, marked dropped. Without it the build stops and names them.")
@click.option("--drop-unlogged-graphs", "drop_unlogged", is_flag=True,
              help="Publish without the graphs of the current store that no file and no logged change makes "
                   "(data put there by `kg load`). Without it the build stops and names them.")
@setting_option("allow_warnings")
@remote_options
def build(drop_unapplied: bool, drop_unlogged: bool, **values: Any) -> None:
    """Parse ontology, data and shapes, replay the accepted changes, infer, validate, and publish the store.

    A build with SHACL Violations, a syntax error, or accepted changes it would drop exits 1 and keeps
    the previous store. Each step's time is printed as it ends (stdout: stderr keeps errors to one line).
    """
    from .build.pipeline import build as run_build

    settings = settings_from(**values)
    try:
        with remote_store(settings) as remote:
            result = run_build(Path(settings.store), base_iri=settings.base_iri, extra=settings.extra_source_paths,
                               remote=remote, log=click.echo, drop_unapplied=drop_unapplied,
                               drop_unlogged=drop_unlogged, allow_warnings=settings.allow_warnings,
                               **project_files(settings))
    except KGError as exc:
        fail(exc)
        return
    click.echo(f"built {result.store_path}")
    for graph, size in sorted(result.graph_sizes.items()):
        click.echo(f"  {size:7d}  {graph}")
    click.echo(result.report.summary())
    click.echo("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items()))


def project_files(settings: Settings) -> dict[str, Any]:
    """The sources and exported changes of the project folder (setting project_dir), when one is set."""
    from .build.pipeline import project_sources

    root = settings.project_root
    return {} if root is None else {"sources": project_sources(root), "changes_dir": root / "data" / "changes"}


@main.command("export-changes")
@setting_option("store")
@setting_option("base_iri")
@setting_option("project_dir")
@remote_options
def export_changes(**values: Any) -> None:
    """Write the accepted changes that data/changes/ does not hold yet into it, one RDF Patch file each.

    Review them (`git diff`, `git add data/changes`) and commit them with the files: `kg build` replays
    data/changes/ on the files, so a build from the files alone gives the served dataset again.
    Exit 0 (also when there is nothing to export), 2 when a change's patch is missing.
    """
    from .build.carry_over import export_changes as run_export
    from .build.pipeline import PROJECT_DIR

    settings = settings_from(**values)
    folder = (settings.project_root or PROJECT_DIR) / "data" / "changes"
    try:
        with remote_store(settings) as remote:
            written = run_export(Path(settings.store), folder, settings.base_iri, remote)
    except KGError as exc:
        fail(exc)
        return
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"{len(written)} change(s) exported to {folder}" if written else f"nothing to export: {folder} holds "
               "every accepted change")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--shapes", "shapes_files", multiple=True, type=click.Path(dir_okay=False),
              help="Validate FILES against the shapes in this file (repeat for several) instead of the project's; "
                   "as `pyshacl -s`.")
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json-ld", "json"]), default="text",
              show_default=True, help="Report format: text for people, Turtle/JSON-LD sh:ValidationReport, JSON rows.")
@click.option("--max-results", type=int, default=None, help="Show at most this many results (the summary says so).")
@setting_option("allow_warnings")
@setting_option("store")
@remote_options
def validate(files: tuple[str, ...], shapes_files: tuple[str, ...], fmt: str, max_results: int | None,
             **values: Any) -> None:
    """Validate the built graph, or FILES (any RDF) with the project's shapes or with --shapes.

    Exit 0 passes (conforms, or only Warnings and Infos while allow_warnings is on), 1 does not,
    2 unreadable input or a failure of the shapes (SHACL 3.6.1: a query the spec forbids, an
    ill-formed shape), with a message.
    """
    import logging

    from .validation.inputs import validate_files, validate_remote, validate_store

    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)  # ill-typed literals are SHACL's to report
    settings = settings_from(**values)
    if shapes_files and not files:
        raise click.UsageError("--shapes needs the data FILES to validate")
    policy = settings.allow_warnings
    try:
        if files:
            report = validate_files([Path(f) for f in files], max_results, shapes=[Path(f) for f in shapes_files],
                                    allow_warnings=policy)
        elif settings.remote:
            report = validate_remote(settings, max_results, allow_warnings=policy)
        else:
            report = validate_store(Path(settings.store), max_results, allow_warnings=policy)
    except KGError as exc:
        fail(exc)
        return
    if fmt == "text":
        click.echo(report.to_text(), nl=False)
    elif fmt == "json":
        click.echo(report.to_json())
    else:
        click.echo(report.graph.serialize(format="turtle" if fmt == "turtle" else "json-ld"))
    sys.exit(0 if report.passed else 1)


@main.command()
@click.argument("sparql", required=False)
@click.option("-f", "--file", "query_file", type=click.Path(exists=True, dir_okay=False),
              help="Read the query from this file.")
@click.option("--format", "fmt", default="table", show_default=True,
              help="table, json, csv, tsv, xml; for CONSTRUCT/DESCRIBE: turtle, ntriples, jsonld, rdfxml, trig, nquads.")
@click.option("--base", "base", default=None, metavar="IRI",
              help="What the query's relative IRIs resolve against (a BASE in the query wins); default: the "
                   "base_iri setting, so that <id/NAME> names a resource of the graph.")
@setting_option("store")
@setting_option("base_iri")
@setting_option("query_timeout_s")
@setting_option("max_result_rows")
@setting_option("max_answer_mb")
@remote_options
def query(sparql: str | None, query_file: str | None, fmt: str, base: str | None, **values: Any) -> None:
    """Run a SPARQL query on the built store and print the answer (within the same limits as the server)."""
    from .sparql.queries import query_request
    from .store.engine import make_engine
    from .store.terms import checked_iri

    settings = settings_from(**values)
    if (sparql is None) == (query_file is None):
        raise click.UsageError("give the query as an argument or with -f FILE (one of them)")
    text = Path(query_file).read_text(encoding="utf-8") if query_file else sparql or ""
    try:
        request = query_request(text, settings, explicit_format="json" if fmt == "table" else fmt,
                                base_iri=checked_iri(base or settings.base_iri, "--base"))
        engine = make_engine(settings, writable=False)
        try:
            answer = engine.run(request)
        finally:
            engine.close()
    except KGError as exc:
        fail(exc)
        return
    if fmt == "table" and answer.kind in ("bindings", "boolean"):
        click.echo(_table(json.loads(answer.body)))
    else:
        sys.stdout.buffer.write(answer.body)
        sys.stdout.flush()
    if answer.truncated:
        cap = f"{answer.byte_budget:,} bytes (setting max_answer_mb)" if answer.byte_budget else \
            f"{answer.count} rows (setting max_result_rows)"
        click.echo(f"kg: the answer was cut at {cap}", err=True)


def _table(data: dict[str, Any]) -> str:
    if "boolean" in data:
        return "true" if data["boolean"] else "false"
    variables = data["head"]["vars"]
    rows = [[b.get(v, {}).get("value", "") for v in variables] for b in data["results"]["bindings"]]
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(variables), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig"]), default="nquads", show_default=True,
              help="N-Quads (one line per quad, easy to diff and sort) or TriG (readable, graph by graph).")
@click.option("--gzip", "compress", is_flag=True, help="Compress the dump with gzip.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of standard output.")
@setting_option("store")
@setting_option("base_iri")
def dump(fmt: str, compress: bool, output: str | None, **values: Any) -> None:
    """Dump every named graph of the store, change log and the changes' patches included. Exit 0, 2 when there is no store."""
    from .build.dump_restore import dump_store

    settings = settings_from(**values)
    if settings.remote_query_url:
        # The dump reads the embedded store's files; dumping them while the service uses a remote
        # store would give a copy of something else, without a word.
        click.echo(f"kg: error: kg dump reads the embedded store at {settings.store}, but KG_REMOTE_QUERY_URL "
                   "names a remote store the service uses instead; dump the remote with its own tools (or "
                   "GET /dumps/dataset.nq.gz from the service), or unset KG_REMOTE_QUERY_URL to dump the "
                   "embedded store", err=True)
        sys.exit(2)
    try:
        if output:
            with open(output, "wb") as fh:
                dump_store(Path(settings.store), fh, fmt, compress=compress, base=settings.base_iri)
        else:
            dump_store(Path(settings.store), sys.stdout.buffer, fmt, compress=compress, base=settings.base_iri)
            sys.stdout.flush()
    except KGError as exc:
        fail(exc)


@main.command()
@click.argument("dump_file", type=click.Path(dir_okay=False))
@setting_option("store")
@setting_option("base_iri")
def restore(dump_file: str, **values: Any) -> None:
    """Load DUMP_FILE (.nq/.trig, optionally .gz) into an EMPTY store. Exit 0, 1 store not empty, 2 bad file."""
    from .build.dump_restore import restore_store

    settings = settings_from(**values)
    try:
        count = restore_store(Path(dump_file), Path(settings.store), settings.base_iri)
    except KGError as exc:
        if exc.status == 409:
            exc.exit_code = 1
        fail(exc)
        return
    click.echo(f"restored {count} quads into {settings.store}")


@main.command("add-source")
@click.argument("article", type=click.Path(dir_okay=False, exists=True))
@click.argument("facts", type=click.Path(dir_okay=False, exists=True))
@click.option("--slug", default=None, help="Name of the new graph {base}graph/article/<slug> (default: from ARTICLE's file name).")
@setting_option("store")
@setting_option("base_iri")
@setting_option("write_token_name")
@setting_option("allow_warnings")
@remote_options
def add_source(article: str, facts: str, slug: str | None, **values: Any) -> None:
    """Store a new article's text and its facts in their own graph, validated first.

    Writes the store directly: stop a server that has this store open, or use POST /sources.
    Exit 0 stored, 1 rejected by the shapes (the report is printed), 2 bad input.
    """
    from .curation.sources import slug_from_name, source_change
    from .curation.writes import Curation, WriteRejected
    from .store.embedded import format_for_path

    settings = settings_from(**values)
    try:
        change = source_change(Path(article).read_bytes(), Path(facts).read_bytes(), format_for_path(facts),
                               slug=slug or slug_from_name(article), base=settings.base_iri, facts_name=facts)
        curation = Curation(settings)
        try:
            outcome = curation.write(change)
        finally:
            curation.close()
    except WriteRejected as exc:
        click.echo(exc.report.to_text(), err=True, nl=False)
        fail(exc)
        return
    except KGError as exc:
        fail(exc)
        return
    click.echo(f"stored {len(outcome.plan.added)} triples in <{change.graph}> (change {outcome.activity.iri if outcome.activity else 'none'})")
    click.echo(outcome.report.summary())


@main.group()
def curator() -> None:
    """Named curators' tokens in the curators file (setting curators_file); the server reads it again when it changes."""


def _curators_file(settings: Settings) -> Path:
    if not settings.curators_file:
        raise click.UsageError("set the curators file: --curators-file PATH or KG_CURATORS_FILE")
    return Path(settings.curators_file)


@curator.command("add")
@click.argument("name")
@setting_option("curators_file")
def curator_add(name: str, **values: Any) -> None:
    """Give NAME a new token (replacing an earlier one) and print it once: only its digest is kept."""
    from .curation.auth import add_curator

    settings = settings_from(**values)
    try:
        token = add_curator(_curators_file(settings), name)
    except KGError as exc:
        fail(exc)
        return
    click.echo(token)
    click.echo(f"kg: {name} can write with the token above (shown once); revoke it with `kg curator revoke {name}`",
               err=True)


@curator.command("revoke")
@click.argument("name")
@setting_option("curators_file")
def curator_revoke(name: str, **values: Any) -> None:
    """Remove NAME's token: the server refuses it from its next request on. Exit 2 when there is no such curator."""
    from .curation.auth import revoke_curator

    settings = settings_from(**values)
    try:
        revoke_curator(_curators_file(settings), name)
    except KGError as exc:
        fail(exc)
        return
    click.echo(f"revoked {name}")


@curator.command("list")
@setting_option("curators_file")
def curator_list(**values: Any) -> None:
    """The curators who have a token (names only)."""
    from .curation.auth import Curators

    settings = settings_from(**values)
    try:
        names = Curators(_curators_file(settings)).names()
    except KGError as exc:
        fail(exc)
        return
    for name in sorted(names):
        click.echo(name)


@main.command()
@click.argument("words", nargs=-1)
@click.option("--check", is_flag=True,
              help="Verify every stored selector instead: of the FILES given as arguments, or of the built store.")
@click.option("--text", "text_file", type=click.Path(dir_okay=False, exists=True),
              help="The source text (UTF-8) to look in; with --check, the text of the files' source when they "
                   "leave out its kgo:fullText (a facts file for POST /sources).")
@click.option("--source", help="Look in a stored source text: its graph's slug (graph/article/<slug>) or its IRI.")
@click.option("--article", help="The source's IRI, for Turtle output from --text (kg:… names are expanded).")
@click.option("--statement", "statements", multiple=True,
              help="A triple the words state, in Turtle with the project's prefixes: prints its statement record too.")
@click.option("--through-claim", help="With --statement: the claim (kg:… IRI) through which the source states it.")
@click.option("--derivation", type=click.Choice(list(dates.METHODS)),
              help="With --statement: the value is derived from the words and the publication date.")
@click.option("--derived-from", multiple=True, help="With --derivation: the statement records it is derived from.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True)
@setting_option("store")
@setting_option("base_iri")
@remote_options
def evidence(words: tuple[str, ...], check: bool, text_file: str | None, source: str | None, article: str | None,
             statements: tuple[str, ...], through_claim: str | None, derivation: str | None,
             derived_from: tuple[str, ...], fmt: str, **values: Any) -> None:
    """Selectors for WORDS in a source text, or (--check) a check of every stored one.

    Prints every printing of the words (exact, prefix, suffix, 0-based code-point offsets) and
    says how many there are: a passage printed twice is evidence at both places. Exit 0 found /
    check passed, 1 the check found errors, 2 not found or bad input.
    """
    from .curation import evidence_cli

    settings = settings_from(**values)
    try:
        if check:
            code = evidence_cli.check(settings, [Path(w) for w in words], text_file, fmt)
            sys.exit(code)
        if len(words) != 1:
            raise click.UsageError("give the words to look for as one argument (quote them), or --check")
        click.echo(evidence_cli.find(settings, words[0], text_file=text_file, source=source, article=article,
                                     statements=statements, through_claim=through_claim, derivation=derivation,
                                     derived_from=derived_from, fmt=fmt))
    except KGError as exc:
        fail(exc)


@main.command()
@click.argument("article", type=click.Path(dir_okay=False, exists=True))
@click.option("--published", required=True,
              help="The article's publication date (2025-11-30) or date-time with its zone (2025-11-29T11:18:00+03:00): "
                   "dates such as 'Thursday' are resolved against it.")
@click.option("--article-iri", help="The IRI the spans' selectors point at (default: kg:article-draft).")
@click.option("--hide-graph", "hide_graphs", multiple=True,
              help="Leave this graph's names out of the gazetteer (to measure a source against a graph without it).")
@click.option("--format", "fmt", type=click.Choice(["trig", "json"]), default="trig", show_default=True)
@setting_option("store")
@setting_option("base_iri")
def propose(article: str, published: str, article_iri: str | None, hide_graphs: tuple[str, ...], fmt: str,
            **values: Any) -> None:
    """Suggestions for a new ARTICLE (UTF-8 text): entity mentions, dates, statements and events.

    Each with its span (Web Annotation selectors, code-point offsets), the entity or value, a
    confidence and why. Names come from the built store; nothing is written. Exit 0, 2 on bad input.
    """
    from .store.embedded import KGStore
    from .workbench import date_expressions, suggestions, trig

    settings = settings_from(**values)
    try:
        when = date_expressions.parse_published(published)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--published") from None
    try:
        text = Path(article).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{article} is not UTF-8 (byte {exc.start})", param_hint="ARTICLE") from None
    try:
        store = KGStore(settings.store, read_only=True)
    except KGError as exc:
        fail(exc)
        return
    proposal = suggestions.propose_from_graph(text, when, suggestions.store_select(store.ox), settings.base_iri,
                                              hide_graphs)
    if fmt == "json":
        click.echo(json.dumps(proposal.as_json(), ensure_ascii=False, indent=1))
    else:
        iri = article_iri.replace("kg:", settings.base_iri + "id/", 1) if article_iri else \
            suggestions.default_article(settings.base_iri)
        click.echo(trig.to_trig(proposal, iri, settings.base_iri), nl=False)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--graph", help="Load triples into this named graph (quad formats keep their own graphs).")
@setting_option("store")
@remote_options
def load(files: tuple[str, ...], graph: str | None, **values: Any) -> None:
    """Bulk-load RDF FILES (N-Triples, N-Quads, Turtle, TriG, RDF/XML, JSON-LD; .gz too) into the store.

    Memory stays bounded. A file with a syntax error is not loaded at all (files before it
    stay). Stop a server that has the same store open first: one writer at a time.
    """
    from .store.loader import Progress, load_files, load_remote

    settings = settings_from(**values)
    try:
        with remote_store(settings) as remote:
            if remote is not None:
                stats = load_remote(remote, [Path(f) for f in files], graph=graph, progress=Progress())
            else:
                stats = load_files(Path(settings.store), [Path(f) for f in files], graph=graph, progress=Progress())
    except KGError as exc:
        fail(exc)
        return
    approx = "" if stats.exact else "~"
    click.echo(f"loaded {approx}{stats.triples:,} triples from {stats.files} file(s), {stats.bytes:,} bytes, "
               f"in {stats.seconds:.1f}s ({stats.rate:,.0f} triples/s) into {settings.remote_gsp_url if remote else settings.store}")


@main.command()
@setting_option("store")
@setting_option("base_iri")
@setting_option("public_url")
@setting_option("host")
@setting_option("port")
@setting_option("workers")
@setting_option("max_connections")
@setting_option("client_timeout_s")
@setting_option("keepalive_s")
@setting_option("query_timeout_s")
@setting_option("retire_grace_s")
@setting_option("query_threads")
@setting_option("max_client_queries")
@setting_option("max_result_rows")
@setting_option("max_answer_mb")
@setting_option("max_body_mb")
@setting_option("max_query_depth")
@setting_option("max_query_kb")
@setting_option("service_allowlist")
@setting_option("write_token")
@setting_option("write_token_name")
@setting_option("curators_file")
@setting_option("allow_warnings")
@setting_option("max_report_results")
@remote_options
@setting_option("max_validate_triples")
@setting_option("extra_sources")
@setting_option("project_dir")
def serve(**values: Any) -> None:
    """Serve the store with gunicorn (building it first if there is none)."""
    from .build.pipeline import build as run_build
    from .http.gunicorn_server import check, run

    settings = settings_from(**values)
    try:
        check(settings)   # a setting that cannot serve is refused before anything is built
        if not settings.remote and not Path(settings.store).exists():
            click.echo(f"no store at {settings.store}: building it first", err=True)
            run_build(Path(settings.store), base_iri=settings.base_iri, extra=settings.extra_source_paths,
                      log=click.echo, allow_warnings=settings.allow_warnings, **project_files(settings))
        run(settings)
    except KGError as exc:
        fail(exc)


if __name__ == "__main__":
    main()
