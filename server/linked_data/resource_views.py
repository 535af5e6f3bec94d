"""Things and their documents: `/id/<slug>` answers 303 See Other to `/doc/<slug>`, which describes
the thing in the negotiated format. Named graphs (`/graph/…`) and the shapes (`/shapes`) answer
with their contents. Thin: map the path to the IRI, describe through the engine, render.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request

from .. import namespaces as ns
from ..errors import NotFound
from ..http import formats
from ..http.ld_answers import Alternate, alternates, is_not_modified, ld_answer, link_header, validators
from ..http.responses import CORS_HEADERS, answer_headers, negotiated
from ..http.security import safe_href
from .describe import RESOURCE_KINDS, Description, describe, iri_for_path, render, split_extension
from .dumps import graph_dump_name
from .pages import build_page, date_for_people

bp = Blueprint("resources", __name__)
bp.add_app_template_filter(date_for_people, "human_date")


def kg() -> Any:
    return current_app.extensions["kg"]


def canonical(path: str) -> str:
    """A canonical IRI under the configured base: the namespaces module's defaults, rebased."""
    return kg().base + path[len(ns.DEFAULT_BASE):]


def select(query: str) -> dict[str, Any]:
    """A SELECT through the query engine (time limit, caps), as its SPARQL JSON document."""
    return kg().results(query)  # type: ignore[no-any-return]


def choose(kinds: tuple[str, ...], explicit: str | None = None) -> formats.Format:
    return formats.negotiate(request.accept_mimetypes, kinds, explicit or request.args.get("format"))


@bp.route("/id/<path:slug>", methods=["GET", "HEAD"])
def thing(slug: str) -> Response:
    """Things are not documents: 303 to the document about them (httpRange-14), keeping the query."""
    iri_for_path(kg().base, "id/" + slug)  # a malformed IRI is a 400 here already
    target = "/doc/" + slug
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    resp = redirect(target, code=303)
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = f'<{target}>; rel="describedby"'
    resp.headers.update(CORS_HEADERS)
    return resp


@bp.route("/doc/<path:slug>", methods=["GET", "HEAD"])
def document(slug: str) -> Response:
    stem, ext = split_extension(slug)
    base = kg().base
    iri = iri_for_path(base, "id/" + stem)
    doc_path = "/doc/" + stem
    fmt = choose(RESOURCE_KINDS, ext)
    alts = alternates(doc_path, RESOURCE_KINDS)
    v = validators(fmt)
    content_location = f"{doc_path}.{fmt.extension}" if not ext else None
    if is_not_modified(v):
        return ld_answer(b"", fmt, v, link=link_header(alts), content_location=content_location)
    desc = describe(select, iri, kgo=kg().prefixes["kgo"], inferred_graph=canonical(ns.G_INFERRED),
                    changelog_graph=canonical(ns.G_CHANGELOG),
                    doc_iri=base + "doc/" + stem, dataset_iri=kg().dataset_iri)
    if not desc.exists:
        return not_found(fmt, iri)
    link = link_header(alts, describedby=doc_path, anchor="/id/" + stem, types=desc.types())
    if fmt.name == "html":
        page = build_page(desc, select, base=base, kgo=kg().prefixes["kgo"], inferred_graph=canonical(ns.G_INFERRED))
        changes = changes_of(page)
        body = render_template("resource.html", page=page, alternates=alts, sparql_describe=describe_link(iri),
                               thing_path="/id/" + stem, graph_paths=graph_paths(page.graphs), changes=changes)
    else:
        body = render(fmt, desc.all_quads(), kg().prefixes)
    return ld_answer(body, fmt, v, link=link, content_location=content_location)


def changes_of(page: Any) -> Any:
    """What the change log says of the page's resource (its newest changes), its facts marked with them."""
    from ..curation.history import annotate

    found = current_app.extensions["history"].resource(page.iri)
    if found.changes:
        annotate(page.facts, found)
    return found


def describe_link(iri: str) -> str:
    """The query UI (its page reads the fragment), opened on a query about this thing."""
    query = (f"# What the graph says about <{iri}>, and in which named graph\n"
             f"SELECT ?property ?value ?graph WHERE {{\n  GRAPH ?graph {{ <{iri}> ?property ?value }}\n}}\n"
             "ORDER BY ?property ?value\n")
    return "/sparql#" + urlencode({"query": query, "name": iri.rstrip("/").rsplit("/", 1)[-1]})


def graph_paths(graphs: list[str]) -> list[tuple[str, str]]:
    base = kg().base
    return [(g, "/" + g[len(base):] if g.startswith(base) else safe_href(g)) for g in graphs]


def not_found(fmt: formats.Format, iri: str) -> Response:
    """404: a page for browsers, the one error body (text or JSON) for everything else."""
    if fmt.name != "html":
        raise NotFound(f"nothing in this graph is named <{iri}>; see /dataset for what is here")
    body = render_template("not_found.html", iri=iri)
    return negotiated(body, fmt, status=404)


# -- named graphs and shapes ------------------------------------------------------------------------

@bp.route("/graph/<path:name>", methods=["GET", "HEAD"])
def named_graph(name: str) -> Response:
    return graph_contents(iri_for_path(kg().base, "graph/" + name), "/graph/" + name)


@bp.route("/shapes", methods=["GET", "HEAD"])
def shapes() -> Response:
    return graph_contents(canonical(ns.G_SHAPES), "/shapes", described_iri=canonical(ns.SHAPES))


def graph_contents(graph: str, path: str, described_iri: str | None = None) -> Response:
    """A named graph: its triples (TriG/N-Quads name the graph) or, for people, a page about it."""
    kinds = (formats.GRAPH, formats.DATASET, formats.PAGE)
    fmt = choose(kinds)
    sizes = kg().graph_sizes()
    if graph not in sizes:
        return not_found(fmt, graph)
    alts = alternates(path, kinds, by_extension=False)
    v = validators(fmt, salt="g-")
    if is_not_modified(v):
        return ld_answer(b"", fmt, v, link=link_header(alts))
    if fmt.name == "html":
        desc = describe(select, graph, kgo=kg().prefixes["kgo"], inferred_graph=canonical(ns.G_INFERRED),
                        changelog_graph=canonical(ns.G_CHANGELOG))
        desc = desc if desc.exists else Description(graph, [])
        page = build_page(desc, select, base=kg().base, kgo=kg().prefixes["kgo"],
                          inferred_graph=canonical(ns.G_INFERRED))
        body = render_template("graph.html", page=page, graph=graph, size=sizes[graph], alternates=alts,
                               dumps=dump_links_for(graph))
    else:
        answer = kg().read_graph(graph, fmt)
        counted = {k: v for k, v in answer_headers(answer).items() if k.startswith("KG-Result-")}
        return ld_answer(answer.body, fmt, v, link=link_header(alts), headers=counted)
    return ld_answer(body, fmt, v, link=link_header(alts))


def dump_links_for(graph: str) -> list[Alternate]:
    name = graph_dump_name(kg().base, graph)
    return [Alternate(f"/dumps/{name}.nq.gz", formats.BY_NAME["nquads"]),
            Alternate("/dumps/dataset.trig.gz", formats.BY_NAME["trig"])]
