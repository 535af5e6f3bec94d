"""The SPARQL 1.1 results writers (JSON, XML, CSV/TSV) for rows written here rather than by Oxigraph:
an answer cut at a cap is written again from the rows that fit, with the truncation said in the
body where the format allows. `formats` gives each results format its writer.
"""
from __future__ import annotations

import json
from typing import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

TRUNCATED_LINK = "urn:x-kg:result-truncated"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def term_json(t: object) -> dict[str, object]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != _XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(t.subject), "predicate": term_json(t.predicate),
                                             "object": term_json(t.object)}}
    raise TypeError(f"unexpected term {t!r}")


def json_bindings(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    bindings = [{v: term_json(t) for v, t in zip(variables, row) if t is not None} for row in rows]
    head: dict[str, object] = {"vars": list(variables)}
    doc: dict[str, object] = {"head": head, "results": {"bindings": bindings}}
    if truncated:
        head["link"] = [TRUNCATED_LINK]
        doc["truncated"] = True
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _xml_term(t: object) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
                f"<object>{_xml_term(t.object)}</object></triple>")
    raise TypeError(f"unexpected term {t!r}")


def xml_bindings(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out += [f"<variable name={quoteattr(v)}/>" for v in variables]
    if truncated:
        out.append(f"<link href={quoteattr(TRUNCATED_LINK)}/>")
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row)
                if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode("utf-8")


def _csv_cell(t: object | None) -> str:
    """SPARQL 1.1 CSV: lexical values only; quote when needed (RFC 4180)."""
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        value = "_:" + t.value
    elif isinstance(t, (ox.NamedNode, ox.Literal)):
        value = t.value
    else:
        value = str(t)
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_bindings(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    lines = [",".join(variables)]
    lines += [",".join(_csv_cell(t) for t in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _tsv_cell(t: object | None) -> str:
    """SPARQL 1.1 TSV: terms in Turtle syntax, tabs and newlines escaped inside literals."""
    if t is None:
        return ""
    text = str(t)
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tsv_bindings(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join(_tsv_cell(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def json_boolean(value: bool) -> bytes:
    return json.dumps({"head": {}, "boolean": value}).encode()


def xml_boolean(value: bool) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>\n").encode()


def csv_boolean(value: bool) -> bytes:
    return f"_askResult\r\n{'true' if value else 'false'}\r\n".encode()


def tsv_boolean(value: bool) -> bytes:
    return f"?_askResult\n{'true' if value else 'false'}\n".encode()
