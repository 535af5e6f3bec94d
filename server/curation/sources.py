"""A new source article and its facts, as one change into their own named graph.

The facts name exactly one `kgo:NewsArticle`; the service adds the text to it as
`kgo:fullText` (character for character), so the shapes check every evidence quote against
the NEW text at its offsets before anything is stored.
"""
from __future__ import annotations

import re

import pyoxigraph as ox

from .. import namespaces as ns
from ..errors import BadRequest
from ..http.formats import Format
from ..store.embedded import parse_rdf, rebase_quads
from .writes import Change

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def slug_from_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:80]


def source_graph(base: str, slug: str) -> str:
    if not SLUG.fullmatch(slug):  # `$` would let a trailing newline through
        raise BadRequest(f"slug {slug!r} is not usable: use lower-case letters, digits and hyphens (at most 80)")
    return base + ns.G_SOURCES[len(ns.DEFAULT_BASE):] + slug


def source_change(text: bytes, facts: bytes, fmt: Format, *, slug: str, base: str,
                  facts_name: str = "facts") -> Change:
    """The change that stores `text` and `facts` in `{base}graph/article/<slug>`, or 400."""
    try:
        full_text = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the article text is not UTF-8 (byte {exc.start})") from None
    if not full_text.strip():
        raise BadRequest("the article text is empty")
    graph = source_graph(base, slug)
    kgo = base + ns.KGO[len(ns.DEFAULT_BASE):]
    quads = list(rebase_quads(parse_rdf(facts, fmt, source=facts_name, graph=graph), ns.DEFAULT_BASE, base))
    if any(isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value != graph for q in quads):
        raise BadRequest(f"{facts_name} names other graphs; send triples only (they go into <{graph}>)")
    articles = sorted({q.subject for q in quads if q.predicate == RDF_TYPE
                       and q.object == ox.NamedNode(kgo + "NewsArticle")}, key=str)
    if len(articles) != 1:
        raise BadRequest(f"{facts_name} must describe exactly one kgo:NewsArticle (found {len(articles)}); "
                         "the text is attached to it as kgo:fullText")
    full_text_p = ox.NamedNode(kgo + "fullText")
    if any(q.predicate == full_text_p for q in quads):
        raise BadRequest(f"{facts_name} has a kgo:fullText; leave it out, the service adds the article text")
    quads.append(ox.Quad(articles[0], full_text_p, ox.Literal(full_text), ox.NamedNode(graph)))
    return Change("add-source", graph=graph, quads=quads, must_not_exist=True,
                  comment=f"source {slug}: {len(full_text)} characters, {len(quads) - 1} fact triples")
