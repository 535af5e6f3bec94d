"""`kg evidence`: where the library's evidence functions meet files, stores and the terminal."""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from .. import namespaces as ns
from ..errors import BadRequest
from ..settings import Settings
from ..store.embedded import KGStore
from . import evidence as ev


def _kgo(settings: Settings) -> str:
    return settings.base_iri + ns.KGO[len(ns.DEFAULT_BASE):]


def _prefixes(settings: Settings) -> dict[str, str]:
    base = settings.base_iri
    return {k: (base + v[len(ns.DEFAULT_BASE):] if v.startswith(ns.DEFAULT_BASE) else v) for k, v in ns.PREFIXES.items()}


@contextmanager
def served_store(settings: Settings) -> Iterator[ox.Store]:
    """The built store (opened read-only), or the remote's quads in an in-memory store."""
    if settings.remote:
        from ..store.remote import memory_copy

        yield memory_copy(settings)
        return
    store = KGStore(settings.store, read_only=True)
    try:
        yield store.ox
    finally:
        store.close()


def expand(name: str, settings: Settings, article: str | None = None) -> str:
    """`kg:gyumri` (or, for a source, `st:…` and `q:…`) or a full IRI, as an IRI."""
    prefix, _, local = name.partition(":")
    prefixes = _prefixes(settings) | (_of_article(article) if article else {})
    if prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return name


def _of_article(article: str) -> dict[str, str]:
    """The prefixes of one source's statement records and quotes (as data/article.ttl writes them)."""
    return {"q": article + "/quote/", "st": article + "/statement/"}


def parse_triple(text: str, settings: Settings) -> ox.Triple:
    """One triple written in Turtle with the project's prefixes."""
    head = "".join(f"@prefix {k}: <{v}> .\n" for k, v in _prefixes(settings).items())
    try:
        triples = list(ox.parse(head + text.strip().rstrip(".") + " .", format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        raise BadRequest(f"--statement {text!r} is not one Turtle triple: {exc}") from None
    if len(triples) != 1:
        raise BadRequest(f"--statement {text!r} must be exactly one triple (found {len(triples)})")
    return ox.Triple(triples[0].subject, triples[0].predicate, triples[0].object)


def find(settings: Settings, words: str, *, text_file: str | None, source: str | None, article: str | None,
         statements: Sequence[str] = (), through_claim: str | None = None, derivation: str | None = None,
         derived_from: Sequence[str] = (), fmt: str = "text") -> str:
    """Every printing of `words`, as text, JSON, or Turtle quote nodes (and statement records)."""
    if (text_file is None) == (source is None):
        raise BadRequest("name the text to look in: --text FILE or --source SLUG (one of them)")
    if text_file is not None:
        text = Path(text_file).read_text(encoding="utf-8")
        if fmt == "turtle" and not article:
            raise BadRequest("Turtle output names the source: give its IRI with --article (e.g. kg:article-…)")
        iri = expand(article, settings) if article else text_file
    else:
        with served_store(settings) as store:
            iri, text = ev.stored_text(store, str(source), settings.base_iri, _kgo(settings))
    found = ev.printings(text, words)
    if fmt == "json":
        return json.dumps({"source": iri, "exact": words, "printings": len(found),
                           "selectors": [p.__dict__ for p in found]}, ensure_ascii=False, indent=2)
    if fmt == "turtle":
        return _turtle(settings, iri, found, statements, through_claim, derivation, derived_from)
    times = "once" if len(found) == 1 else f"{len(found)} times: cite every printing"
    lines = [f"{words!r} is printed {times} in {iri if text_file else f'<{iri}>'}"]
    for p in found:
        lines.append(f"  {p.start}-{p.end}  …{p.prefix!r} [{p.exact}] {p.suffix!r}…")
    return "\n".join(lines)


def _turtle(settings: Settings, article: str, found: list[ev.Printing], statements: Sequence[str],
            through_claim: str | None, derivation: str | None, derived_from: Sequence[str]) -> str:
    kgo = _kgo(settings)
    triples = [t for p in found for t in ev.quote_triples(article, p, kgo)]
    quotes = [ev.quote_iri(article, p) for p in found]
    for text in statements:
        t = parse_triple(text, settings)
        st = ev.Statement(t.subject, t.predicate, t.object, quotes,  # type: ignore[arg-type]
                          through_claim=expand(through_claim, settings) if through_claim else None,
                          derivation=kgo + derivation if derivation else None,
                          derived_from=[expand(d, settings, article) for d in derived_from])
        triples += ev.statement_triples(article, st, kgo)
    prefixes = _prefixes(settings) | _of_article(article)
    head = "".join(f"@prefix {k}: <{prefixes[k]}> .\n" for k in ("kg", "kgo", "rdf", "oa", "xsd", "prov", "q", "st"))
    return head + "\n" + ev.to_turtle(triples, prefixes)


def check(settings: Settings, files: list[Path], text_file: str | None, fmt: str) -> int:
    """Check FILES (or the built store); print the findings; 0 without errors, else 1."""
    kgo = _kgo(settings)
    text = Path(text_file).read_text(encoding="utf-8") if text_file else None
    if files:
        store, texts = ev.load_files(files, text, kgo)
        result = ev.check_evidence(store, texts, kgo)
    else:
        if text is not None:
            raise BadRequest("--text goes with FILES; a built store holds its sources' texts")
        with served_store(settings) as store:
            result = ev.check_evidence(store, kgo=kgo)
    if fmt == "json":
        print(json.dumps({"ok": not result.errors, "quotes": result.quotes, "statements": result.statements,
                          "findings": [f.__dict__ for f in result.findings]}, ensure_ascii=False, indent=2))
    else:
        for f in result.findings:
            print(f"{f.kind}: <{f.subject}> {f.message}")
        print(result.summary())
    return 1 if result.errors else 0
