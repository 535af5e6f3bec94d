"""HTTP shared by every Linked Data answer: validators (ETag, Last-Modified), 304, Cache-Control,
Link headers, and the `<link rel="alternate">` list the HTML head repeats.

RFC 9110 §13 (conditional requests): If-None-Match wins over If-Modified-Since; the weak
comparison is used for GET/HEAD. RFC 8288 (Web Linking) for `Link`.
"""
from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate

from flask import Response, current_app, request

from . import formats
from .responses import negotiated

# Data changes only by `kg build` or an accepted write; a minute of freshness, then revalidate
# (an ETag match costs one stat, no query).
CACHE_CONTROL = "public, max-age=60, must-revalidate"


@dataclass(frozen=True)
class Alternate:
    href: str
    fmt: formats.Format


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: float

    @property
    def http_date(self) -> str:
        return formatdate(self.last_modified, usegmt=True)


def validators(fmt: formats.Format, salt: str = "") -> Validators:
    """ETag from the data version and the representation (each format has its own ETag)."""
    version, stamp = current_app.extensions["kg"].data_version()
    return Validators(f"{version}-{salt}{fmt.name}", stamp)


def is_not_modified(v: Validators) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(v.etag) or request.if_none_match.star_tag
    since = request.if_modified_since
    return since is not None and int(v.last_modified) <= since.timestamp()


def alternates(path: str, kinds: tuple[str, ...], *, by_extension: bool = True) -> list[Alternate]:
    """One alternate per format: `/doc/x.ttl` style when the route takes extensions, else `?format=`."""
    out = []
    for f in formats.formats_for(*kinds):
        href = f"{path}.{f.extension}" if by_extension else f"{path}?format={f.name}"
        out.append(Alternate(href, f))
    return out


def link_header(alts: list[Alternate], *, describedby: str | None = None, anchor: str | None = None,
                types: list[str] | None = None, extra: list[str] | None = None) -> str:
    links = [f'<{a.href}>; rel="alternate"; type="{a.fmt.media_type}"' for a in alts]
    if describedby:
        links.append(f'<{describedby}>; rel="describedby"' + (f'; anchor="{anchor}"' if anchor else ""))
    links += [f'<{t}>; rel="type"' for t in types or []]
    links += extra or []
    return ", ".join(links)


def ld_answer(body: bytes | str, fmt: formats.Format, v: Validators, *, link: str | None = None,
              content_location: str | None = None, status: int = 200,
              headers: dict[str, str] | None = None) -> Response:
    """A negotiated answer with validators, caching and links; 304 when the client's copy is current."""
    headers = {**(headers or {}), "ETag": f'"{v.etag}"', "Last-Modified": v.http_date, "Cache-Control": CACHE_CONTROL}
    if link:
        headers["Link"] = link
    if content_location:
        headers["Content-Location"] = content_location
    if status == 200 and is_not_modified(v):
        resp = negotiated(b"", fmt, status=304, headers=headers)
        resp.headers.pop("Content-Type", None)
        return resp
    if request.method == "HEAD":
        data = body.encode("utf-8") if isinstance(body, str) else body
        resp = negotiated(b"", fmt, status=status, headers=headers)
        resp.headers["Content-Length"] = str(len(data))
        return resp
    return negotiated(body, fmt, status=status, headers=headers)
