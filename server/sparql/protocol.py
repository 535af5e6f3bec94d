"""Reading a SPARQL 1.1 Protocol request (W3C SPARQL 1.1 Protocol §2.1 query, §2.2 update).

Turns an HTTP request into an Operation or a precise 4xx; it never evaluates anything. It reads
the WSGI environ itself (`SparqlRequest`): every input -- GET, a form or a direct POST, a body of
announced length or chunked, a URL with raw non-ASCII bytes -- is read here, once.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header
import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler)

from ..errors import BadRequest, MethodNotAllowed, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"


@dataclass
class Operation:
    kind: str                      # "query", "update" or "none" (no operation: description or UI)
    text: str = ""
    default_graph_uris: list[str] = field(default_factory=list)
    named_graph_uris: list[str] = field(default_factory=list)
    using_graph_uris: list[str] = field(default_factory=list)
    using_named_graph_uris: list[str] = field(default_factory=list)
    format: str | None = None      # a `format` parameter (URL first, then the form): it overrides Accept
    base_iri: str | None = None    # the base of the operation's relative IRIs: the request's URL


class SparqlRequest:
    """What the protocol reads of one HTTP request, taken from the WSGI environ.

    Why not werkzeug's Request: it builds header views, stream wrappers and caches this endpoint
    never uses, at a cost comparable to a small query's. The parsing is werkzeug's own
    (`parse_options_header`; `parse_qsl` as werkzeug's `args` calls it, invalid UTF-8 staying
    percent-encoded)."""

    def __init__(self, environ: dict[str, Any], max_body: int) -> None:
        self.environ = environ
        self.method: str = environ["REQUEST_METHOD"]
        query_string: str = environ.get("QUERY_STRING", "")
        if not query_string.isascii():   # raw bytes in the URL (WSGI hands them over as latin-1): UTF-8
            query_string = query_string.encode("latin-1").decode("utf-8", "werkzeug.url_quote")
        self.args: MultiDict[str, str] = MultiDict(
            parse_qsl(query_string, keep_blank_values=True, errors="werkzeug.url_quote") if query_string else ())
        self.mimetype, self.mimetype_params = content_type(environ.get("CONTENT_TYPE", ""))
        self.max_body = max_body
        self.body: bytes | None = None

    def header(self, name: str) -> str | None:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))  # type: ignore[no-any-return]

    def get_data(self, cache: bool = True) -> bytes:
        if self.body is None:
            self.body = read_body(self.environ, self.max_body)
        return self.body


@lru_cache(maxsize=64)
def content_type(value: str) -> tuple[str, Mapping[str, str]]:
    """A Content-Type as (media type in lower case, parameters), read by werkzeug; clients send
    the same few again and again."""
    mimetype, params = parse_options_header(value)
    return mimetype.lower(), MappingProxyType(params)


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The whole request body, at most `limit` bytes: 413 before reading a longer announced body,
    or as soon as a chunked one passes the limit (never a body cut short and used); 400 for a body
    shorter than announced; 408 when the client stops sending (the server's read time limit)."""
    stream = environ["wsgi.input"]
    announced = environ.get("CONTENT_LENGTH") or ""
    try:
        if announced:
            length = int(announced)
            if length < 0:
                raise ValueError(announced)
            if length > limit:
                raise _too_large(limit)
            data = stream.read(length) if length else b""
            if len(data) != length:
                raise BadRequest(f"the request body ended after {len(data)} of the {length} bytes announced")
            return data  # type: ignore[no-any-return]
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get("wsgi.input_terminated"):
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise _too_large(limit)
            return data  # type: ignore[no-any-return]
        return b""
    except TimeoutError:
        raise RequestTimeout("the request body did not arrive in time (setting client_timeout_s); "
                             "send the whole body without pausing") from None
    except (ValueError, OSError) as exc:
        raise BadRequest(f"the request body could not be read ({exc or type(exc).__name__}): check its "
                         "Content-Length or its chunked encoding") from None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than this service accepts ({limit / 1048576:g} MiB, "
                           "setting max_body_mb)")


def _one(params: MultiDict[str, str], name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"the request has {len(values)} '{name}' parameters; send exactly one")
    return values[0] if values else None


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the {what} is not valid UTF-8 (byte {exc.start}); SPARQL text must be UTF-8") from None


def _charset_ok(req: SparqlRequest) -> None:
    charset = req.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {charset} is not supported; send UTF-8")


def read_operation(req: SparqlRequest) -> Operation:
    """§2.1.1–2.1.3 and §2.2.1–2.2.2: GET, POST form, POST direct; everything else is 4xx."""
    op = _read(req)
    if op.kind != "none":
        op.base_iri = request_base(req.environ)
    return op


def _read(req: SparqlRequest) -> Operation:
    if req.method in ("GET", "HEAD"):
        args = req.args
        if "update" in args:
            raise MethodNotAllowed("SPARQL Update must be sent with POST, never GET", ["POST"])
        query = _one(args, "query")
        op = Operation("query", query) if query is not None else Operation("none")
        op.format = args.get("format")
        return _with_graphs(op, args)
    if req.method != "POST":
        raise MethodNotAllowed(f"{req.method} is not part of the SPARQL protocol here",
                               ["GET", "HEAD", "POST", "OPTIONS"])
    mimetype = req.mimetype
    if not mimetype:
        raise UnsupportedMediaType(f"a POST needs a Content-Type: {FORM}, {QUERY_BODY} or {UPDATE_BODY}")
    _charset_ok(req)
    if mimetype == FORM:
        form = MultiDict(parse_form(_utf8(req.get_data(cache=True), "form body")))
        query, update = _one(form, "query"), _one(form, "update")
        if query is not None and update is not None:
            raise BadRequest("the form has both 'query' and 'update'; send one operation per request")
        if query is None and update is None:
            raise BadRequest("the form has neither 'query' nor 'update'")
        if _one(req.args, "query") is not None:
            raise BadRequest("the query is given both in the URL and in the body; send it once")
        merged = MultiDict(list(form.items(multi=True)) + list(req.args.items(multi=True)))
        op = Operation("query", query) if query is not None else Operation("update", update or "")
        op.format = req.args.get("format") or form.get("format")
        return _with_graphs(op, merged)
    if mimetype in (QUERY_BODY, UPDATE_BODY):
        kind = "query" if mimetype == QUERY_BODY else "update"
        if "query" in req.args or "update" in req.args:
            raise BadRequest(f"with Content-Type {mimetype} the operation is the body; "
                             "do not also send it as a URL parameter")
        op = Operation(kind, _utf8(req.get_data(cache=True), f"{kind} body"))
        op.format = req.args.get("format")
        return _with_graphs(op, req.args)
    raise UnsupportedMediaType(f"Content-Type {mimetype} is not a SPARQL protocol request; "
                               f"send {FORM}, {QUERY_BODY} or {UPDATE_BODY}")


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(text: str) -> str:
    """`unquote_plus` for one form field. Its percent-escapes are decoded by the C codec for
    `\\xHH` escapes (every backslash doubled first, so no other escape can appear); the standard
    library decodes them one by one in Python, slower than the rest of reading a query. Text that is not
    ASCII or holds a `%` without two hex digits is the standard library's."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if not text.isascii() or _BAD_ESCAPE.search(text):
        return unquote(text)
    octets = text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii").decode("unicode_escape")
    return octets.encode("latin-1").decode("utf-8", "replace")


def parse_form(body: str) -> list[tuple[str, str]]:
    """An application/x-www-form-urlencoded body as `parse_qsl(body, keep_blank_values=True)`
    reads it (the same pairs; a property test holds it to that)."""
    pairs = []
    for field_ in body.split("&"):
        if field_:
            name, _, value = field_.partition("=")
            pairs.append((_unquote_plus(name), _unquote_plus(value)))
    return pairs


_HOST = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def request_base(environ: dict[str, Any]) -> str | None:
    """The URL the request was sent to, without its query string: the base IRI of the operation's
    relative IRIs (Query §4.1.1.1 and RFC 3986 §5.1.3: the URI the text was retrieved from), as
    `oxigraph serve` gives it; a BASE in the text still wins. None when the Host header is no
    host name (then a relative IRI stays the parser's syntax error)."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return _base(environ.get("wsgi.url_scheme", "http"), host, environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))


@lru_cache(maxsize=256)
def _base(scheme: str, host: str, path: str) -> str | None:
    """(Nearly every request is sent to the same URL.)"""
    if not _HOST.fullmatch(host):
        return None
    return f"{scheme}://{host}{quote(path.encode('latin-1', 'replace'), safe='/;=,~!$&()*+@:-._')}"


def _with_graphs(op: Operation, params: MultiDict[str, str]) -> Operation:
    if not params:   # most requests: no parameters besides the operation in the body
        return op
    op.default_graph_uris = params.getlist("default-graph-uri")
    op.named_graph_uris = params.getlist("named-graph-uri")
    op.using_graph_uris = params.getlist("using-graph-uri")
    op.using_named_graph_uris = params.getlist("using-named-graph-uri")
    if op.kind == "query" and (op.using_graph_uris or op.using_named_graph_uris):
        raise BadRequest("using-graph-uri and using-named-graph-uri belong to updates; "
                         "a query takes default-graph-uri and named-graph-uri")
    if op.kind == "update" and (op.default_graph_uris or op.named_graph_uris):
        raise BadRequest("default-graph-uri and named-graph-uri belong to queries; "
                         "an update takes using-graph-uri and using-named-graph-uri")
    return op
