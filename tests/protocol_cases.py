"""The W3C SPARQL 1.1 Protocol test cases, by name, as data (run by tests/test_protocol.py).

Names follow the W3C protocol test suite (sparql11-test-suite/protocol/manifest.ttl). The
suite's dataset cases load remote files as default and named graphs; a service that never
fetches URLs (ours, see LOAD) runs them on its own named graphs instead, with an ASK whose
answer proves which dataset the query saw. The service is read-only, so the update cases
that expect success answer 403 here (protocol §2.2: a service may refuse updates).

Each case: name, method, query_string (already encoded; repeated parameters allowed),
headers, body (bytes), status, media_type (the exact mimetype of the answer, or None),
boolean (the ASK answer, when the case checks one), xfail (the reason, for a known failure).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from server import namespaces as ns

OWL_ONTOLOGY = "<http://www.w3.org/2002/07/owl#Ontology>"
ONTOLOGY_ASK = f"ASK {{ <{ns.ONTOLOGY}> a {OWL_ONTOLOGY} }}"
ASK_EMPTY = "ASK {}"
SELECT_ONE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1"
DESCRIBE = f"DESCRIBE <{ns.ONTOLOGY}>"
UPDATE = "INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }"

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
SRJ, SRX = "application/sparql-results+json", "application/sparql-results+xml"


def q(*pairs: tuple[str, str]) -> str:
    return urlencode(list(pairs), quote_via=quote)


def case(name: str, method: str, *, query_string: str = "", headers: dict[str, str] | None = None,
         body: bytes = b"", status: int, media_type: str | None = None, boolean: bool | None = None,
         xfail: str | None = None) -> dict[str, Any]:
    return {"name": name, "method": method, "query_string": query_string, "headers": headers or {},
            "body": body, "status": status, "media_type": media_type, "boolean": boolean, "xfail": xfail}


CASES: list[dict[str, Any]] = [
    # -- queries: the three ways to send one (§2.1.1–2.1.3) ---------------------------------
    case("query_get", "GET", query_string=q(("query", ASK_EMPTY)), status=200, media_type=SRJ, boolean=True),
    case("query_post_form", "POST", headers={"Content-Type": FORM}, body=q(("query", ASK_EMPTY)).encode(),
         status=200, media_type=SRJ, boolean=True),
    case("query_post_direct", "POST", headers={"Content-Type": QUERY}, body=ASK_EMPTY.encode(),
         status=200, media_type=SRJ, boolean=True),
    # -- the RDF dataset (§2.1.4) ----------------------------------------------------------
    case("query_dataset_default_graph_get", "GET",
         query_string=q(("query", ONTOLOGY_ASK), ("default-graph-uri", ns.G_OUTSIDE)), status=200, media_type=SRJ,
         boolean=False),
    case("query_dataset_default_graphs_get", "GET",
         query_string=q(("query", ONTOLOGY_ASK), ("default-graph-uri", ns.G_OUTSIDE),
                        ("default-graph-uri", ns.G_ONTOLOGY)), status=200, media_type=SRJ, boolean=True),
    case("query_dataset_default_graphs_post", "POST", headers={"Content-Type": FORM},
         body=q(("query", ONTOLOGY_ASK), ("default-graph-uri", ns.G_OUTSIDE),
                ("default-graph-uri", ns.G_ONTOLOGY)).encode(), status=200, media_type=SRJ, boolean=True),
    case("query_dataset_named_graphs_post", "POST", headers={"Content-Type": FORM},
         body=q(("query", f"ASK {{ GRAPH <{ns.G_ONTOLOGY}> {{ ?s ?p ?o }} }}"),
                ("named-graph-uri", ns.G_OUTSIDE)).encode(), status=200, media_type=SRJ, boolean=False),
    case("query_dataset_named_graphs_get", "GET",
         query_string=q(("query", f"ASK {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}"),
                        ("named-graph-uri", ns.G_OUTSIDE)), status=200, media_type=SRJ, boolean=True),
    case("query_dataset_full", "GET",
         query_string=q(("query", f"ASK {{ <{ns.ONTOLOGY}> a {OWL_ONTOLOGY} GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}"),
                        ("default-graph-uri", ns.G_ONTOLOGY), ("named-graph-uri", ns.G_OUTSIDE)),
         status=200, media_type=SRJ, boolean=True),
    # FROM alone picks the graph...
    case("query_from_without_protocol_dataset", "GET",
         query_string=q(("query", f"ASK FROM <{ns.G_OUTSIDE}> {{ <{ns.ONTOLOGY}> a {OWL_ONTOLOGY} }}")),
         status=200, media_type=SRJ, boolean=False),
    # ...but default-graph-uri overrides FROM (§2.1.4: the protocol dataset takes precedence).
    case("query_multiple_dataset", "GET",
         query_string=q(("query", f"ASK FROM <{ns.G_OUTSIDE}> {{ <{ns.ONTOLOGY}> a {OWL_ONTOLOGY} }}"),
                        ("default-graph-uri", ns.G_ONTOLOGY)), status=200, media_type=SRJ, boolean=True),
    case("query_multiple_dataset_named", "GET",
         query_string=q(("query", f"ASK FROM NAMED <{ns.G_ONTOLOGY}> {{ GRAPH <{ns.G_ONTOLOGY}> {{ ?s ?p ?o }} }}"),
                        ("named-graph-uri", ns.G_OUTSIDE)), status=200, media_type=SRJ, boolean=False),
    # A protocol dataset is the whole dataset: what it does not give is empty (Query §13.2.1).
    case("query_dataset_named_graphs_only_empty_default", "GET",
         query_string=q(("query", "ASK { ?s ?p ?o }"), ("named-graph-uri", ns.G_OUTSIDE)),
         status=200, media_type=SRJ, boolean=False),
    case("query_dataset_default_graph_only_no_named", "GET",
         query_string=q(("query", f"ASK FROM NAMED <{ns.G_OUTSIDE}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
                        ("default-graph-uri", ns.G_ONTOLOGY)), status=200, media_type=SRJ, boolean=False),
    case("query_from_named_without_from_empty_default", "GET",
         query_string=q(("query", f"ASK FROM NAMED <{ns.G_OUTSIDE}> {{ ?s ?p ?o }}")),
         status=200, media_type=SRJ, boolean=False),
    # -- content types (§2.1.6) -------------------------------------------------------------
    case("query_content_type_select", "GET", query_string=q(("query", SELECT_ONE)),
         headers={"Accept": f"{SRX}, {SRJ};q=0.5"}, status=200, media_type=SRX),
    case("query_content_type_ask", "GET", query_string=q(("query", ASK_EMPTY)),
         headers={"Accept": SRX}, status=200, media_type=SRX),
    case("query_content_type_describe", "GET", query_string=q(("query", DESCRIBE)),
         headers={"Accept": "application/rdf+xml, text/turtle;q=0.9"}, status=200, media_type="application/rdf+xml"),
    # The suite's own request: relative IRIs, resolved against the request's URL (Query §4.1.1.1).
    case("query_content_type_construct", "POST",
         query_string=q(("default-graph-uri", "http://kasei.us/2009/09/sparql/data/data0.rdf")),
         headers={"Content-Type": QUERY}, body=b"CONSTRUCT { <s> <p> 1 } WHERE {}", status=200,
         media_type="text/turtle"),
    # -- bad queries ------------------------------------------------------------------------
    case("bad_query_method", "PUT", query_string=q(("query", ASK_EMPTY)), status=405),
    case("bad_multiple_queries", "GET", query_string=q(("query", ASK_EMPTY), ("query", SELECT_ONE)), status=400),
    case("bad_query_wrong_media_type", "POST", headers={"Content-Type": "text/plain"}, body=ASK_EMPTY.encode(),
         status=415),
    case("bad_query_missing_form_type", "POST", body=q(("query", ASK_EMPTY)).encode(), status=415),
    case("bad_query_missing_direct_type", "POST", body=ASK_EMPTY.encode(), status=415),
    case("bad_query_non_utf8", "POST", headers={"Content-Type": f"{QUERY}; charset=ISO-8859-1"},
         body='ASK { ?s ?p "café" }'.encode("iso-8859-1"), status=415),
    case("bad_query_non_utf8_bytes", "POST", headers={"Content-Type": QUERY},
         body='ASK { ?s ?p "café" }'.encode("iso-8859-1"), status=400),
    case("bad_query_syntax", "GET", query_string=q(("query", "ASK { ?s ?p ?o")), status=400),
    # -- updates: refused by a read-only service -------------------------------------------
    case("bad_update_get", "GET", query_string=q(("update", UPDATE)), status=405),
    case("bad_multiple_updates", "POST", headers={"Content-Type": FORM},
         body=q(("update", UPDATE), ("update", UPDATE)).encode(), status=400),
    case("bad_update_missing_form_type", "POST", body=q(("update", UPDATE)).encode(), status=415),
    case("bad_update_non_utf8", "POST", headers={"Content-Type": f"{UPDATE_TYPE}; charset=ISO-8859-1"},
         body='INSERT DATA { <http://example.org/s> <http://example.org/p> "café" }'.encode("iso-8859-1"),
         status=415),
    case("bad_update_syntax", "POST", headers={"Content-Type": UPDATE_TYPE}, body=b"INSERT DATA { <a> <b> ",
         status=403),
    case("bad_update_dataset_conflict", "POST", headers={"Content-Type": FORM},
         body=q(("update", f"DELETE {{ ?s ?p ?o }} USING <{ns.G_OUTSIDE}> WHERE {{ ?s ?p ?o }}"),
                ("using-graph-uri", ns.G_ONTOLOGY)).encode(), status=403),
    case("update_post_form", "POST", headers={"Content-Type": FORM}, body=q(("update", UPDATE)).encode(), status=403),
    case("update_post_direct", "POST", headers={"Content-Type": UPDATE_TYPE}, body=UPDATE.encode(), status=403),
    case("update_base_uri", "POST", headers={"Content-Type": UPDATE_TYPE},
         body=b"BASE <http://example.org/> INSERT DATA { <s> <p> 1 }", status=403),
    case("update_dataset_default_graph", "POST", headers={"Content-Type": FORM},
         body=q(("update", UPDATE), ("using-graph-uri", ns.G_OUTSIDE)).encode(), status=403),
    case("update_dataset_default_graphs", "POST", headers={"Content-Type": FORM},
         body=q(("update", UPDATE), ("using-graph-uri", ns.G_OUTSIDE), ("using-graph-uri", ns.G_ONTOLOGY)).encode(),
         status=403),
    case("update_dataset_named_graphs", "POST", headers={"Content-Type": FORM},
         body=q(("update", UPDATE), ("using-named-graph-uri", ns.G_OUTSIDE)).encode(), status=403),
    case("update_dataset_full", "POST", headers={"Content-Type": FORM},
         body=q(("update", UPDATE), ("using-graph-uri", ns.G_ONTOLOGY),
                ("using-named-graph-uri", ns.G_OUTSIDE)).encode(), status=403),
]
