"""`/metrics` (Prometheus text format) and the access log: counts exact, no query text logged."""
from __future__ import annotations

import ast
import logging
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Callable

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from server.http.gunicorn_server import gunicorn_options
from server.settings import load_settings

from .conftest import ROOT, HeldService, LiveServer

SECRET_QUERY = 'SELECT * WHERE { ?s ?p "my-private-search-term" } LIMIT 1'


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(metrics: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture()
def access_lines() -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("kg.access")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_metrics_count_requests_errors_and_latency(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()  # a fresh app: its own registry
    for _ in range(3):
        # Closed, as a WSGI server closes an answer once it has sent it: a query's metrics and log
        # line are recorded then (sparql_wsgi), so the client does not wait for them.
        with client.get("/sparql", query_string={"query": "ASK {}"}) as resp:
            assert resp.status_code == 200
    assert client.get("/sparql", query_string={"query": "ASK {"}).status_code == 400
    assert client.get("/no-such-page").status_code == 404
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain" and "version=0.0.4" in resp.headers["Content-Type"]
    m = samples(resp.get_data(as_text=True))
    assert value(m, "kg_http_requests_total", route="/sparql", method="GET", status="200") == 3
    assert value(m, "kg_http_requests_total", route="/sparql", method="GET", status="400") == 1
    assert value(m, "kg_http_requests_total", route="(unmatched)", method="GET", status="404") == 1
    assert value(m, "kg_http_errors_total", status="400") == 1
    assert value(m, "kg_http_errors_total", status="404") == 1
    assert value(m, "kg_http_request_duration_seconds_count", route="/sparql") == 4
    assert value(m, "kg_http_request_duration_seconds_bucket", route="/sparql", le="+Inf") == 4
    assert value(m, "kg_query_timeouts_total") == 0


def test_timeouts_are_counted(make_app: Callable[..., Flask], held_service: HeldService) -> None:
    client = make_app(query_timeout_s=0.5, service_allowlist=held_service.url).test_client()
    assert client.get("/sparql", query_string={"query": held_service.query()}).status_code == 503
    m = samples(client.get("/metrics").get_data(as_text=True))
    assert value(m, "kg_query_timeouts_total") == 1
    assert value(m, "kg_http_errors_total", status="503") == 1


def test_access_log_has_one_line_without_the_query(client, access_lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    client.get("/sparql", query_string={"query": SECRET_QUERY}, headers={"Authorization": "Bearer tok-123"}).close()
    client.post("/sparql", data=SECRET_QUERY.encode(), content_type="application/sparql-query").close()
    client.post("/sparql", data={"update": "CLEAR ALL"}, headers={"Authorization": "Bearer tok-123"}).close()
    assert len(access_lines) == 3
    get, post, update = (line.split() for line in access_lines)
    assert get[:3] == ["GET", "/sparql", "200"] and post[:3] == ["POST", "/sparql", "200"]
    assert update[:3] == ["POST", "/sparql", "403"]
    assert get[3].endswith("ms")
    assert get[4] == post[4] != update[4], "the same query has the same hash, wherever it was sent"
    assert get[4].startswith("q=") and len(get[4]) == 2 + 12
    joined = "\n".join(access_lines)
    for secret in ("my-private-search-term", "tok-123", "Bearer", "query=", "CLEAR"):
        assert secret not in joined


def test_access_lines_carry_the_time_as_logging_writes_it() -> None:
    """The line's time is made once a second and its milliseconds each time: the same text as
    logging's own formatter gives, within a second and across one."""
    from server.http.observability import AccessFormatter

    ours, logging_own = AccessFormatter(), logging.Formatter("%(asctime)s %(message)s")
    for created in (1764500000.001, 1764500000.999, 1764500001.5, 1764500001.0, 1764400000.25):
        record = logging.LogRecord("kg.access", logging.INFO, __file__, 0, "GET /sparql %s", ("200",), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == logging_own.format(record)


def test_an_access_line_made_without_a_record_is_the_formatters_own() -> None:
    """In a gevent worker the access log's own handler gets its lines made directly: the same text
    as its formatter writes for the record, across seconds and milliseconds."""
    from server.http.observability import AccessFormatter, AccessRecord

    formatter = AccessFormatter()
    for created in (1764500000.001, 1764500000.999, 1764500001.5, 1764400000.25):
        args = ("POST", "/sparql", "200", 1.25, "0123456789ab")
        record = AccessRecord(args)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert formatter.access_line(created, args) == formatter.format(record)


GEVENT_ACCESS = """
from gevent import monkey; monkey.patch_all()
import io, logging, re
from server.http import observability as obs
out = io.StringIO()
obs._default[0].setStream(out)
metrics = obs.Metrics()
obs.record_request(metrics, "/sparql", "GET", 200, "/sparql", 0.0012, "ASK {}")
class Hide(logging.Filter):
    def filter(self, record):
        return record.args[2] != "404"
obs.access_log.addFilter(Hide())   # a filter someone configured is applied: the line goes through logging
obs.record_request(metrics, "/sparql", "GET", 404, "/sparql", 0.0012, None)
obs.record_request(metrics, "/sparql", "GET", 400, "/sparql", 0.0012, None)
logging.shutdown()
print(out.getvalue(), end="")
"""


def test_a_gevent_workers_access_lines_keep_their_shape_and_the_logs_filters() -> None:
    run = subprocess.run([sys.executable, "-c", GEVENT_ACCESS], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert len(lines) == 2, lines
    assert re.fullmatch(stamp + r" GET /sparql 200 1\.2ms q=[0-9a-f]{12}", lines[0]), lines
    assert re.fullmatch(stamp + r" GET /sparql 400 1\.2ms q=-", lines[1]), lines


GEVENT_LOG = """
from gevent import monkey; monkey.patch_all()
import io, logging, gevent
from server.http.observability import BatchingHandler
out = io.StringIO()
log = logging.getLogger("batched"); log.propagate = False; log.setLevel(logging.INFO)
log.addHandler(BatchingHandler(out))
for i in range(3):
    log.info("line %d", i)
print(repr(out.getvalue()))     # nothing yet: the worker has not yielded to its event loop
gevent.sleep(0.2)
print(repr(out.getvalue()))     # written together once it has
log.info("line 3")
logging.shutdown()
print(repr(out.getvalue()))     # and what is held when the process ends
"""


def test_a_gevent_workers_access_log_lines_are_written_together_and_none_is_lost() -> None:
    """In a gevent worker the access log writes its lines in batches (one system call for many
    requests); every line still reaches the log, in order, by the time the process ends."""
    run = subprocess.run([sys.executable, "-c", GEVENT_LOG], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert [ast.literal_eval(line) for line in run.stdout.splitlines()] == [
        "", "line 0\nline 1\nline 2\n", "line 0\nline 1\nline 2\nline 3\n"]


def test_gunicorn_access_log_is_off() -> None:
    """gunicorn's own access log would print the query string, i.e. the whole query."""
    assert gunicorn_options(load_settings({}, environ={}))["accesslog"] is None


@pytest.mark.slow
def test_metrics_add_up_across_gunicorn_workers(live_server: LiveServer) -> None:
    def get(path: str) -> str:
        with urllib.request.urlopen(live_server.url + path, timeout=30) as resp:
            return resp.read().decode()

    before = samples(get("/metrics"))
    n = 20
    url = "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
    for _ in range(n):
        get(url)
    key = {"route": "/sparql", "method": "GET", "status": "200"}
    # A query is counted once its answer has been sent, so the last one may still be on its way
    # into the counter when /metrics is asked (another worker may answer that): ask again until it
    # is there (bounded: a count that never arrives fails after about 30 s).
    for _ in range(600):
        counted = value(samples(get("/metrics")), "kg_http_requests_total", **key) - \
            value(before, "kg_http_requests_total", **key)
        if counted >= n:
            break
        time.sleep(0.05)
    assert counted == n
