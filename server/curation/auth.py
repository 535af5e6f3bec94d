"""The write token: `Authorization: Bearer <token>` (RFC 6750 §2.1), and nowhere else.

A token in the URL (RFC 6750 §2.3 allows `access_token=`) would end up in access logs,
browser history and Referer headers, so any request carrying one is refused before
anything else happens, and the value is never echoed.
"""
from __future__ import annotations

import hmac

from flask import Request

from ..errors import BadRequest, Forbidden, Unauthorized
from ..settings import Settings

URL_TOKEN_PARAMETERS = ("access_token", "token", "write_token")


def refuse_token_in_url(req: Request) -> None:
    """Whatever the case of its name: `?Access_Token=` ends up in the logs as surely as `?access_token=`."""
    for name in req.args:
        if name.lower() in URL_TOKEN_PARAMETERS:
            raise BadRequest(f"a token in the URL ('{name.lower()}=') is refused: URLs get logged. Send it only as "
                             "the header 'Authorization: Bearer <token>'; the token may now be exposed, so replace it")


def require_write_token(req: Request, settings: Settings) -> None:
    """Pass only with the configured token; 403 when writes are off or the token is wrong, 401 when missing."""
    refuse_token_in_url(req)
    if not settings.writes_enabled:
        raise Forbidden("this service is read-only: writes are enabled by setting write_token (KG_WRITE_TOKEN)")
    header = req.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not given.strip():
        err = Unauthorized("this write needs the header 'Authorization: Bearer <write token>'")
        err.headers["WWW-Authenticate"] = 'Bearer realm="kg", scope="write"'
        raise err
    if not hmac.compare_digest(given.strip().encode("utf-8"), settings.write_token.encode("utf-8")):
        raise Forbidden("the write token is not valid; nothing was changed")
