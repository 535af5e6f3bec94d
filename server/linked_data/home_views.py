"""The home page, the dataset description (VoID + DCAT) and the dumps. Thin: gather, render."""
from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, render_template, request

from .. import namespaces as ns
from ..errors import NotFound
from ..http import formats
from ..http.ld_answers import CACHE_CONTROL, alternates, is_not_modified, ld_answer, link_header, validators
from ..http.responses import CORS_HEADERS
from ..sparql.examples import examples_by_topic
from .dataset_description import ABOUT, TITLE, describe_dataset, statistics
from .dumps import Dump, dump_path, ensure_dumps
from .pages import all_events
from .resource_views import canonical, choose, kg, select

bp = Blueprint("home", __name__)

DATASET_KINDS = (formats.GRAPH, formats.PAGE)


def current_dumps() -> list[Dump]:
    k = kg()
    version, _ = k.data_version()
    return ensure_dumps(select, store=k.settings.store, version=version, base=k.base, prefixes=k.prefixes,
                        page=k.settings.max_result_rows, leave_out=canonical(ns.G_CHANGELOG))


def things_by_class() -> list[dict[str, Any]]:
    """Every thing of the sources' graphs and the outside graph, grouped by its asserted class, for the index
    (not the quotes and statement records that say where the sources state it)."""
    k = kg()
    rows = select(f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?c (SAMPLE(?cl) AS ?clabel) ?s (SAMPLE(?l) AS ?label) WHERE {{
          GRAPH ?g {{ ?s a ?c }}
          FILTER(STRSTARTS(STR(?g), "{canonical(ns.G_SOURCES)}") || ?g = <{canonical(ns.G_OUTSIDE)}>)
          FILTER(STRSTARTS(STR(?s), "{k.base}id/"))
          FILTER(?c NOT IN (<{k.prefixes['kgo']}EvidenceQuote>, <{k.prefixes['kgo']}SourcedStatement>,
                            <http://www.w3.org/ns/oa#SpecificResource>,
                            <http://www.w3.org/ns/oa#TextQuoteSelector>, <http://www.w3.org/ns/oa#TextPositionSelector>))
          OPTIONAL {{ ?s rdfs:label ?l }} OPTIONAL {{ ?c rdfs:label ?cl FILTER(LANGMATCHES(LANG(?cl), "en")) }}
        }} GROUP BY ?c ?s ORDER BY ?clabel ?label""")["results"]["bindings"]
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = r["c"]["value"]
        group = groups.setdefault(c, {"iri": c, "label": r.get("clabel", {}).get("value") or c.rsplit("#", 1)[-1],
                                      "items": []})
        s = r["s"]["value"]
        group["items"].append({"label": r.get("label", {}).get("value") or s.rsplit("/", 1)[-1],
                               "href": "/doc/" + s[len(k.base + "id/"):]})
    return sorted(groups.values(), key=lambda g: g["label"].lower())


@bp.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    k = kg()
    # The home page is for people: no Accept, or only wildcards, gets HTML here.
    wildcard_only = all(m in ("*/*", "*") for m, _ in request.accept_mimetypes)
    fmt = formats.BY_NAME["html"] if wildcard_only else choose((formats.PAGE, formats.GRAPH))
    alts = alternates("/dataset", DATASET_KINDS, by_extension=False)
    v = validators(fmt, salt="home-")
    if is_not_modified(v):
        return ld_answer(b"", fmt, v, link=link_header(alts))
    if fmt.name != "html":  # machines asking the root for data get the dataset description
        return dataset()
    sizes = k.graph_sizes()
    stats = statistics(select, base=k.base, inferred_graph=canonical(ns.G_INFERRED), graphs=sizes)
    body = render_template("home.html", title=TITLE, about=ABOUT, stats=stats, graphs=graph_rows(sizes),
                           events=all_events(select, k.prefixes["kgo"], k.base),
                           example_topics=examples_by_topic(k.examples), classes=things_by_class(), alternates=alts,
                           ontology="/ontology", dumps=current_dumps())
    return ld_answer(body, fmt, v, link=link_header(alts))


def graph_rows(sizes: dict[str, int]) -> list[dict[str, Any]]:
    base = kg().base
    return [{"iri": g, "href": "/" + g[len(base):] if g.startswith(base) else None, "size": n}
            for g, n in sorted(sizes.items())]


@bp.route("/dataset", methods=["GET", "HEAD"])
@bp.route("/.well-known/void", methods=["GET", "HEAD"])
def dataset() -> Response:
    k = kg()
    fmt = choose(DATASET_KINDS)
    alts = alternates("/dataset", DATASET_KINDS, by_extension=False)
    v = validators(fmt, salt="dataset-")
    if is_not_modified(v):
        return ld_answer(b"", fmt, v, link=link_header(alts))
    sizes = k.graph_sizes()
    stats = statistics(select, base=k.base, inferred_graph=canonical(ns.G_INFERRED), graphs=sizes)
    dumps = current_dumps()
    root = k.settings.public_base   # the answer is cached: never the client's Host header
    triples = describe_dataset(dataset=k.dataset_iri, base=k.base, endpoint=root + "sparql",
                               dumps_url=root + "dumps/", stats=stats, dumps=dumps,
                               source=k.base + "id/article-kars-gyumri-second-round",
                               ontology=k.prefixes["kgo"][:-1])
    if fmt.name == "html":
        body = render_template("dataset.html", title=TITLE, about=ABOUT, stats=stats, graphs=graph_rows(sizes),
                               dumps=dumps, alternates=alts, dataset_iri=k.dataset_iri, endpoint="/sparql")
    else:
        body = fmt.write_triples(triples, k.prefixes)
    return ld_answer(body, fmt, v, link=link_header(alts))


@bp.route("/dumps/<name>", methods=["GET", "HEAD"])
def dump(name: str) -> Response:
    k = kg()
    dumps = {d.name: d for d in current_dumps()}
    if name not in dumps:
        raise NotFound(f"no dump named {name!r}; the dumps are: {', '.join(sorted(dumps))}")
    d = dumps[name]
    version, stamp = k.data_version()
    ctype = "application/gzip" if d.gzipped else formats.by_media_type(d.media_type).content_type  # type: ignore[union-attr]
    data = dump_path(k.settings.store, version, name).read_bytes()  # small files; read whole, nothing left open
    resp = Response(b"" if request.method == "HEAD" else data, content_type=ctype)
    resp.set_etag(d.sha256)
    resp.last_modified = stamp  # type: ignore[assignment]
    resp.headers["Content-Length"] = str(len(data))
    resp.make_conditional(request)
    resp.headers["Cache-Control"] = CACHE_CONTROL
    resp.headers["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(d.sha256)).decode()
    resp.headers.update(CORS_HEADERS)
    return resp
