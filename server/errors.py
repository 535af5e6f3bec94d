"""One error hierarchy. Each error carries its HTTP status and a message that says what to change.

The CLI maps the same errors to exit codes; the web app renders them through one handler.
"""
from __future__ import annotations

from typing import Any


class KGError(Exception):
    """Base class: `status` for HTTP, `exit_code` for the CLI."""

    status: int = 500
    exit_code: int = 2
    title: str = "Internal error"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = {k: v for k, v in detail.items() if v is not None}
        self.headers: dict[str, str] = {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.title, "status": self.status, "message": self.message, **self.detail}


class SettingsError(KGError):
    status = 500
    title = "Bad setting"


class BadRequest(KGError):
    status = 400
    title = "Bad request"


class QuerySyntaxError(BadRequest):
    """A query or update the parser rejects; line and column point at the problem."""

    title = "Malformed query"


class InputSyntaxError(BadRequest):
    """RDF that does not parse; names the file (or body), line and column."""

    title = "Malformed RDF"


class InputTooDeep(InputSyntaxError):
    """RDF nested deeper than any parser here is allowed to see (its stack would overflow)."""

    title = "RDF nested too deeply"


class QuoteNotFound(BadRequest):
    """A quote asked for as evidence that the source text does not contain, character for character."""

    title = "Quote not found"


class QueryRefused(BadRequest):
    """A query that is well-formed but not allowed here (SERVICE, LOAD, too deep)."""

    title = "Query refused"


class Unauthorized(KGError):
    status = 401
    title = "Unauthorized"


class Forbidden(KGError):
    status = 403
    title = "Forbidden"


class NotFound(KGError):
    status = 404
    title = "Not found"


class MethodNotAllowed(KGError):
    status = 405
    title = "Method not allowed"

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message, allowed=allowed)
        self.headers["Allow"] = ", ".join(allowed)


class NotAcceptable(KGError):
    status = 406
    title = "Not acceptable"

    def __init__(self, message: str, offered: list[str]) -> None:
        super().__init__(message, offered=offered)


class Conflict(KGError):
    """The request contradicts the store's state (a graph that already exists, a change already undone)."""

    status = 409
    title = "Conflict"


class RequestTimeout(KGError):
    """The client stopped sending its request (the server's read time limit)."""

    status = 408
    title = "Request timeout"


class PayloadTooLarge(KGError):
    """Answered before the body is read, and the connection then closes (RFC 9110 §15.5.14): a
    client that sends its body anyway still reads the answer, and one that waits for
    `100 Continue` never has to send it."""

    status = 413
    title = "Payload too large"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message, **detail)
        self.headers["Connection"] = "close"


class UnsupportedMediaType(KGError):
    status = 415
    title = "Unsupported media type"


class TripleTermsRefused(UnsupportedMediaType):
    """RDF 1.2 triple terms or reifiers, in RDF or in an update: the rest of the stack carries RDF 1.1 only."""

    title = "RDF 1.2 not supported"


class Unprocessable(KGError):
    """A write whose result breaks the shapes; the report travels with it."""

    status = 422
    exit_code = 1
    title = "Validation failed"


class BadGateway(KGError):
    """The remote SPARQL store answered with an error of its own (or nonsense)."""

    status = 502
    title = "Bad gateway"


class ServiceUnavailable(KGError):
    status = 503
    title = "Service unavailable"

    def __init__(self, message: str, *, retry_after_s: int | None = None, **detail: Any) -> None:
        super().__init__(message, **detail)
        if retry_after_s is not None:
            self.headers["Retry-After"] = str(retry_after_s)


class Busy(ServiceUnavailable):
    """No query slot came free before the query's time limit (the fairness rule, `store.admission`)."""

    title = "Service busy"


class Restarting(ServiceUnavailable):
    """The server process that holds the request is being replaced (a query it cannot stop ran
    past its time limit): the request was not evaluated, and may be sent again at once."""

    title = "Service restarting"


class QueryTimeout(ServiceUnavailable):
    title = "Query timeout"


class BuildError(KGError):
    """`kg build` refused to publish; the previous store is kept."""

    exit_code = 1
    title = "Build failed"


class PreconditionFailed(KGError):
    """A conditional write (If-Match / If-None-Match) whose condition no longer holds: someone else wrote first."""

    status = 412
    title = "Precondition failed"


class ValidationFailure(KGError):
    """A failure in the sense of SHACL §3.6.1: no report can be made (the shapes cannot be checked
    as given -- a SPARQL constraint of a form the spec says to refuse, an ill-formed shape -- or
    the data cannot be held faithfully by the store). The message says which and what to change."""

    status = 422
    exit_code = 2
    title = "Validation failure"
