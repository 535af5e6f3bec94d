"""Running the app under gunicorn: its processes, and what a client may hold of them.

Workers: every worker of a read-only server opens the store read-only (read-only opens are safe
side by side). Writes need the single writer, so with a write token the server runs one worker,
which opens the store read-write and answers queries beside the writes. Queries are evaluated on
native threads of the worker (`store.embedded_engine`); a worker whose query runs past the time
limit retires (`retire_worker`): it stops accepting, ends as soon as no request is being
answered (connections idle between requests are dropped, as a server may), and gunicorn starts
a fresh one. Until then the listening socket holds new connections for the other workers, or
for the fresh one.

Clients: requests are read and answers written by gevent's WSGI server (`pywsgi`, run by
gunicorn's `gevent_pywsgi` worker), one greenlet per connection: a connection that sends slowly,
sits idle or does not read its answer holds a greenlet and a socket, never a thread, and the
time limits below close it:
- a kept-alive connection may be idle `keepalive_s` between requests;
- a request's line and headers must arrive within `client_timeout_s` of its first byte, its
  body within `client_timeout_s` of the headers, and each answer must be taken within
  `client_timeout_s` (every single read or write in between also waits at most that long);
- a worker holds at most `max_connections` connections; more wait in the listen queue.
gevent's server sends `100 Continue` only when the app reads the body, so a body refused before
it is read (413) is never sent by a client that waits for it; one that sends it anyway has it
read and discarded after the answer (`Connection: close`), so it reads the 413 instead of a reset.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

from ..settings import Settings
from .observability import MULTIPROC_ENV

_retiring = False
GRACEFUL_S = 10   # the longest a stopping worker waits for the requests it is answering
_servers: set[Any] = set()    # this worker's servers (one per listening socket)
_answering: set[Any] = set()  # handlers whose request has arrived and is not yet answered


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from .. import create_app

        return create_app(self.settings, on_runaway=retire_worker)


def retire_worker() -> None:
    """A query ran past its time limit and cannot be stopped: this worker stops accepting and ends,
    query thread and all, once the requests it is answering are done (the engine has answered
    the queries it was waiting for already); gunicorn starts a fresh worker in its place.
    gunicorn's own graceful stop would wait for idle kept-alive connections too, and look only
    once a second."""
    global _retiring
    if _retiring:
        return
    _retiring = True
    import gevent

    gevent.spawn(_retire)


def _retire() -> None:
    import gevent

    for server in list(_servers):
        server.close()
    until = time.monotonic() + GRACEFUL_S
    while _answering and time.monotonic() < until:
        gevent.sleep(0.01)
    _end()


def _end() -> None:
    """End the process without waiting for the query thread it cannot stop."""
    logging.shutdown()
    os._exit(0)


def _worker_int(worker: Any) -> None:
    """Ctrl-C (SIGINT, or SIGQUIT from the master) asks for a quick stop: the worker ends at once
    rather than waiting out the graceful timeout for threads it cannot stop (then to be killed).
    Every acknowledged write has been flushed already."""
    _end()


def _worker_exit(server: Any, worker: Any) -> None:
    """A worker stopped by gunicorn while it retires ends here at once."""
    if _retiring:
        _end()


class _SlowClient(TimeoutError):
    """A client took longer than client_timeout_s to send its request."""


class _HeadTooLarge(ValueError):
    """More header fields, or a longer one, than MAX_FIELDS / MAX_FIELD_BYTES."""


MAX_FIELDS = 100
ONE_SEND_BYTES = 64 * 1024   # an answer's first part up to this size goes out with its head
MAX_FIELD_BYTES = 8190
_FIELD = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")


class RequestHead:
    """A request's header fields as gevent's server reads them (`get`, `items`, `headers`…), read
    here line by line: the standard library's reader goes through the email package, which costs
    more than a small query does. RFC 9112 §5: a field is a token, a colon and a value; a line
    folded onto the previous one (obs-fold) is joined to it with a space."""

    status = ""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields
        self._first: dict[str, str] = {}
        for k, v in fields:
            self._first.setdefault(k.lower(), v)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    getheader = get

    def __delitem__(self, name: str) -> None:
        wanted = name.lower()
        self._fields = [(k, v) for k, v in self._fields if k.lower() != wanted]
        self._first.pop(wanted, None)

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    @property
    def typeheader(self) -> str | None:
        return self.get("content-type")

    @property
    def headers(self) -> list[str]:
        return [f"{k}: {v}\r\n" for k, v in self._fields]


def read_head(rfile: Any) -> RequestHead:
    """The header fields up to the empty line; 431 past MAX_FIELDS or MAX_FIELD_BYTES, 400 for a
    line that is no field."""
    fields: list[tuple[str, str]] = []
    while True:
        line = rfile.readline(MAX_FIELD_BYTES + 3)
        if line in (b"\r\n", b"\n"):
            return RequestHead(fields)
        if not line.endswith(b"\n"):
            if len(line) > MAX_FIELD_BYTES:
                raise _HeadTooLarge()
            raise ValueError("the connection closed in the middle of the request's head")
        if len(fields) == MAX_FIELDS:
            raise _HeadTooLarge()
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip()}")
            continue
        found = _FIELD.fullmatch(text)
        if found is None:
            raise ValueError(f"not a header field: {text[:80]!r}")
        fields.append((found.group(1), found.group(2)))
_HEAD_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
                   b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 83\r\n\r\n"
                   b"431 Request header fields too large: at most 100 fields of at most 8190 bytes each\n")
_REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Length: 79\r\n\r\n408 Request timeout: the request's head did not arrive within client_timeout_s\n")


class ClientLimitedHandler(PyWSGIHandler):  # type: ignore[misc]
    """gevent's WSGI handler, with the time limits of the module docstring on each connection."""

    idle_s = 5.0
    client_s = 30.0

    def handle(self) -> None:
        # A large answer is written as its head and then its body: without TCP_NODELAY the body
        # would wait for the client to acknowledge the head (Nagle's algorithm against the
        # client's delayed acknowledgement).
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _servers.add(self.server)
        super().handle()

    def log_request(self) -> None:
        """Nothing: the app writes the access log (`observability`), and gunicorn's is off."""

    _gathering: bytearray | None = None   # an answer's head and first part, while gevent writes them

    def _write_with_headers(self, data: bytes) -> None:
        """The head and the first part of the body in one send when that part is small (most
        answers are one part): gevent's server writes them (head, framing) with two sends, a second
        system call and a second packet for every answer; here its two sends are gathered into one.
        A large part is still sent on its own, uncopied."""
        if len(data) > ONE_SEND_BYTES:
            super()._write_with_headers(data)
            return
        self._gathering = bytearray()
        try:
            super()._write_with_headers(data)
            gathered = self._gathering
        finally:
            self._gathering = None
        self._send_small(gathered)

    def _send_small(self, data: bytearray) -> None:
        """gevent's `_sendall` for a small answer: one `send` (gevent's socket `sendall` first asks
        the socket for its buffer size, a system call for every answer); what the kernel did not
        take is sent by `_sendall`. An error is recorded as gevent's `_sendall` records it."""
        try:
            sent = self.socket.send(data)
        except OSError as exc:
            self.status = f"socket error: {exc}"
            if self.code > 0:
                self.code = -self.code
            raise
        self.response_length += sent
        if sent < len(data):
            super()._sendall(memoryview(data)[sent:])

    def _sendall(self, data: bytes) -> None:
        if self._gathering is not None:
            self._gathering += data
            return
        super()._sendall(data)

    taken = 0   # requests taken on this connection

    def handle_one_request(self) -> Any:
        if _retiring and self.taken:     # a retiring worker keeps no connection alive
            return None
        self.socket.settimeout(self.idle_s)
        try:
            arrived = self.rfile.peek(1)
            if not arrived:              # the client closed the connection
                return None
        except OSError:                  # idle for keepalive_s: closed
            return None
        self.taken += 1
        self.socket.settimeout(self.client_s)
        # A head that has arrived whole (most do, in one packet, often with the body) needs no
        # time limit: reading it cannot wait. Else its time limit starts now.
        head_end = arrived.find(b"\r\n\r\n")
        self._body_arrived = len(arrived) - head_end - 4 if head_end >= 0 else 0
        self._head_timer = None if head_end >= 0 else _timeout(self.client_s, _SlowClient)
        self._line_timed_out = False
        try:
            outcome = super().handle_one_request()
        finally:
            if self._head_timer is not None:
                self._head_timer.close()
            _answering.discard(self)
        return ("408", _REQUEST_TIMEOUT) if self._line_timed_out else outcome

    def read_requestline(self) -> str:
        try:
            return super().read_requestline()  # type: ignore[no-any-return]
        except _SlowClient:
            self._line_timed_out = True
            return ""

    def MessageClass(self, rfile: Any, *_args: Any) -> RequestHead:  # noqa: N802 (gevent's name)
        """The header fields, read by `read_head` (within MAX_FIELDS fields of MAX_FIELD_BYTES)."""
        return read_head(rfile)

    def finalize_headers(self) -> None:
        """An answer of a retiring worker says `Connection: close`: the client sends its next
        request on a new connection (to a worker that serves it) instead of on one that is closed
        after this answer. The Date header is gevent's own, made once a second."""
        if self.provided_date is None:
            self.provided_date = _http_date()
            self.response_headers.append((b"Date", self.provided_date))
        super().finalize_headers()
        if _retiring and not self.close_connection:
            self.close_connection = True
            self.response_headers.append((b"Connection", b"close"))

    def handle_error(self, t: type[BaseException], v: BaseException, tb: Any) -> None:
        """A request cut short by the worker's stop (gunicorn ends what is left after its graceful
        time) is 503 with `Retry-After`, not gevent's 500: the request itself was not at fault."""
        from gevent import GreenletExit

        if not issubclass(t, GreenletExit) or self.response_length:
            super().handle_error(t, v, tb)
            return
        self.close_connection = True
        body = b"503 Service restarting: this server process stopped before it answered; send the request again\n"
        try:
            self.start_response("503 Service Unavailable", [
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                ("Retry-After", "1"), ("Connection", "close")])
            self.write(body)
        except OSError:
            pass

    def _handle_client_error(self, ex: BaseException) -> Any:
        """A head that did not arrive in time is a 408 and one too large a 431, not a logged
        "invalid request" (gevent routes a request's read errors here for subclasses to decide,
        see its handle_one_request)."""
        if isinstance(ex, _SlowClient):
            return "408", _REQUEST_TIMEOUT
        if isinstance(ex, _HeadTooLarge):
            return "431", _HEAD_TOO_LARGE
        return super()._handle_client_error(ex)

    def get_environ(self) -> dict[str, Any]:
        """The head has arrived: its time limit ends, and the body's begins (unless the whole body
        arrived with the head, or there is none)."""
        if self._head_timer is not None:
            self._head_timer.close()
        _answering.add(self)
        env: dict[str, Any] = super().get_environ()
        if not self._body_here(env):
            env["wsgi.input"] = _TimedInput(env["wsgi.input"], time.monotonic() + self.client_s)
        return env

    def _body_here(self, env: dict[str, Any]) -> bool:
        """Whether the request's body, of announced length (or none), has arrived whole already."""
        if "HTTP_TRANSFER_ENCODING" in env:
            return False
        length = env.get("CONTENT_LENGTH") or "0"
        return length.isdigit() and int(length) <= self._body_arrived


def _timeout(seconds: float, exception: type[BaseException]) -> Any:
    from gevent import Timeout

    return Timeout.start_new(seconds, exception)


_date: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    """The Date header's value as gevent's server writes it, made once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        from gevent.pywsgi import format_date_time

        _date = (now, format_date_time(now))
    return _date[1]


class _TimedInput:
    """A request body that must arrive by a deadline; past it, reading raises TimeoutError
    (which the app answers 408)."""

    def __init__(self, stream: Any, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def _within(self, read: Any, *args: Any) -> Any:
        from gevent import Timeout

        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _SlowClient("the request body did not arrive in time")
        with Timeout(remaining, _SlowClient):
            return read(*args)

    def read(self, *args: Any) -> bytes:
        return self._within(self._stream.read, *args)  # type: ignore[no-any-return]

    def readline(self, *args: Any) -> bytes:
        return self._within(self._stream.readline, *args)  # type: ignore[no-any-return]

    def readlines(self, *args: Any) -> list[bytes]:
        return self._within(self._stream.readlines, *args)  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class Worker(GeventPyWSGIWorker):  # type: ignore[misc]
    """gunicorn's gevent_pywsgi worker with the client time limits."""

    wsgi_handler = ClientLimitedHandler


def worker_class(settings: Settings) -> type[Worker]:
    """The worker with this server's limits (a class of its own: gunicorn instantiates it in each worker)."""
    handler = type("ClientLimitedHandler", (ClientLimitedHandler,),
                   {"idle_s": settings.keepalive_s, "client_s": settings.client_timeout_s})
    return type("Worker", (Worker,), {"wsgi_handler": handler})


def _when_ready(server: Any) -> None:
    for listener in server.LISTENERS:
        print(f"kg: serving on {str(listener).rstrip('/')}/ (SPARQL at /sparql)", file=sys.stderr, flush=True)


def _child_exit(server: Any, worker: Any) -> None:
    from .observability import worker_exited

    worker_exited(worker.pid)


def _on_exit(server: Any) -> None:
    folder = os.environ.get(MULTIPROC_ENV, "")
    if folder.startswith(tempfile.gettempdir()) and os.path.basename(folder).startswith("kg-metrics-"):
        shutil.rmtree(folder, ignore_errors=True)


def check(settings: Settings) -> None:
    """Settings that cannot serve are refused before anything starts."""
    from ..errors import SettingsError

    for name in ("client_timeout_s", "keepalive_s"):
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{name} is a time in seconds, more than 0; got {getattr(settings, name):g}")
    if settings.retire_grace_s < 0:
        raise SettingsError(f"retire_grace_s is a time in seconds, 0 or more; got {settings.retire_grace_s:g}")
    if settings.max_connections < 1:
        raise SettingsError(f"max_connections is a number of connections, 1 or more; got {settings.max_connections}")


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    check(settings)
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.worker_processes,
        "worker_class": worker_class(settings),
        "worker_connections": settings.max_connections,
        # The app enforces the query time limit itself; gunicorn's limit is a backstop.
        "timeout": int(settings.query_timeout_s) + 30,
        "graceful_timeout": GRACEFUL_S,
        # The app writes the access log itself (observability.py): gunicorn's would print the
        # query string, which holds the whole query.
        "accesslog": None,
        "child_exit": _child_exit,
        "worker_exit": _worker_exit,
        "worker_int": _worker_int,
        "on_exit": _on_exit,
        "errorlog": "-",
        "when_ready": _when_ready,
        # gunicorn's control socket lives at one fixed path in the home folder: two servers on one
        # machine (a benchmark beside the served store, the tests) would take it from each other.
        "control_socket_disable": True,
    }


def check_port_free(settings: Settings) -> None:
    """A port another process listens on is named with the flag that changes it. (gunicorn retries
    for five seconds and then says only "Can't connect".)"""
    if settings.port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            from ..errors import SettingsError

            raise SettingsError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}; is another "
                                f"server running there? Choose another port with --port (e.g. --port "
                                f"{settings.port + 1}) or KG_PORT, or --port 0 for any free one") from None


def run(settings: Settings) -> None:
    # Metrics from every worker process are added up through files in one folder, which must
    # be set before the workers start (prometheus_client's multiprocess mode).
    if not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="kg-metrics-")
    check_port_free(settings)
    _Server(settings, gunicorn_options(settings)).run()
