"""One table of settings: CLI flags, `KG_…` environment variables and docs all come from it.

A setting is read once, when the app or a command starts; request handlers only see the
resulting `Settings` object.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from .errors import SettingsError
from .namespaces import DEFAULT_BASE


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return "KG_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("store", "var/store", "Directory of the embedded Oxigraph store (a link that `kg build` swaps atomically)."),
    Setting("base_iri", DEFAULT_BASE, "Canonical base IRI of every resource the graph mints."),
    Setting("public_url", "", "URL the service is reached at, for the absolute links of the dataset description (/dataset, /.well-known/void: its endpoint and dumps; empty means base_iri) and the endpoint the Service Description names (GET /sparql; empty: the URL of the request). Never taken from a request's Host header, which a client chooses and a cache would keep."),
    Setting("host", "127.0.0.1", "Interface `kg serve` listens on; loopback by default so nothing is exposed by accident."),
    Setting("port", 8000, "Port `kg serve` listens on; 0 picks a free port."),
    Setting("workers", 2, "gunicorn worker processes; each opens the store read-only (forced to 1 when writes are enabled: that one opens it read-write)."),
    Setting("max_connections", 1000, "Open connections one worker holds (each a greenlet, not a thread); more wait in the listen queue."),
    Setting("client_timeout_s", 30.0, "How long a client may take to send a request's line and headers (from its first byte), to send its body, and to take each answer; past it the connection is closed. Also the longest a single read or write of the connection waits."),
    Setting("keepalive_s", 5.0, "How long a kept-alive connection may stay idle between two requests before it is closed."),
    Setting("query_timeout_s", 30.0, "Time limit of one SPARQL query in seconds, counted from its request (waiting for a slot included); past it the answer is 503. A query that cannot be stopped makes its worker retire (a fresh one takes its place)."),
    Setting("retire_grace_s", 1.0, "When a worker retires (a query ran past its time limit and cannot be stopped), how long from its start a query the worker is still running, or is asked on a connection it already holds, may take before it is answered 503 `Service restarting` with `Retry-After` (sent again, it reaches a fresh worker). Shorter: the worker, and with one worker the whole service, is replaced sooner; longer: fewer queries are sent twice."),
    Setting("query_threads", 16, "Queries one server process evaluates at once (each on a native thread of its own); more wait for a free one."),
    Setting("max_client_queries", 4, "Queries one client address may have evaluated at once per server process; its further queries wait for one of its own to end (503 with `Retry-After` if none ends within the time limit), so one client cannot take every slot."),
    Setting("max_result_rows", 10000, "Most rows (or triples) one answer carries; a capped answer says so in `KG-Result-Truncated`."),
    Setting("max_answer_mb", 16.0, "Largest answer in MiB; a longer one is cut after the last row that fits (still a whole document of its format) and says so in `KG-Result-Truncated` (`bytes=`)."),
    Setting("max_body_mb", 4.0, "Largest request body accepted, in MiB; larger bodies get 413."),
    Setting("max_query_depth", 64, "Deepest nesting of { }, ( ), [ ] and << >> accepted in a query or update; deeper ones get 400 before any parser sees them."),
    Setting("max_query_kb", 512, "Largest SPARQL query or update text accepted, in KiB; longer ones get 413 before any parser sees them."),
    Setting("service_allowlist", "", "Space-separated endpoint IRIs that SERVICE may call; empty refuses every SERVICE (LOAD is always refused)."),
    Setting("write_token", "", "Bearer token that enables writes; empty means the service is read-only."),
    Setting("write_token_name", "curator", "Name recorded in the change log (prov:wasAssociatedWith) for writes made with the write token."),
    Setting("curators_file", "", "File of named curators' tokens, one `name sha256:<digest>` a line (`kg curator add NAME` writes it); read again when it changes, so curators are added and revoked without a restart. Each change records its curator. Empty: only write_token."),
    Setting("allow_warnings", True, "Whether SHACL Warnings and Infos pass: a write with only Warnings is stored, `kg build` publishes, `kg validate` exits 0. The report itself still says sh:conforms false whenever it has any result (SHACL 3.6); off: any result fails."),
    Setting("max_report_results", 1000, "Most results a validation report lists; a cut report says so (its summary and `truncated`)."),
    Setting("remote_query_url", "", "SPARQL 1.1 query endpoint of a remote store; when set, the app and the CLI use it instead of the embedded store (see the README, Scale)."),
    Setting("remote_update_url", "", "SPARQL 1.1 update endpoint of the remote store (guarded writes); empty: writes are refused."),
    Setting("remote_gsp_url", "", "Graph Store Protocol endpoint of the remote store (`kg build` publishes and `kg load` loads through it)."),
    Setting("remote_user", "", "User name for HTTP basic authentication at the remote store; empty: no authentication."),
    Setting("remote_password", "", "Password for HTTP basic authentication at the remote store (never shown by /settings.json)."),
    Setting("remote_union_param", "", "Query parameter that makes the remote's default graph the union of its named graphs, sent with every query that names no dataset (`union-default-graph` for `oxigraph serve`); empty: the remote's default graph already is the union."),
    Setting("max_validate_triples", 20000, "Most triples `POST /validate` checks in one request; more get 413 (20,000 generated triples take about 1.5 s to validate alone)."),
    Setting("project_dir", "", "Folder holding ontology/, shapes/ and data/: what `kg build` reads (with the exported changes in data/changes/) and where `kg export-changes` writes; empty: this checkout."),
    Setting("extra_sources", "", "Space-separated RDF files `kg build` adds to the project's sources (any format `kg load` reads, `.gz` too): quad formats keep their graphs, triples go to `{base}graph/extra`; inferred and validated with the rest."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    store: str = "var/store"
    base_iri: str = DEFAULT_BASE
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    max_connections: int = 1000
    client_timeout_s: float = 30.0
    keepalive_s: float = 5.0
    query_timeout_s: float = 30.0
    retire_grace_s: float = 1.0
    query_threads: int = 16
    max_client_queries: int = 4
    max_result_rows: int = 10000
    max_answer_mb: float = 16.0
    max_body_mb: float = 4.0
    max_query_depth: int = 64
    max_query_kb: int = 512
    service_allowlist: str = ""
    write_token: str = ""
    write_token_name: str = "curator"
    curators_file: str = ""
    allow_warnings: bool = True
    max_report_results: int = 1000
    remote_query_url: str = ""
    remote_update_url: str = ""
    remote_gsp_url: str = ""
    remote_user: str = ""
    remote_password: str = ""
    remote_union_param: str = ""
    max_validate_triples: int = 20000
    project_dir: str = ""
    extra_sources: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_answer_bytes(self) -> int:
        return int(self.max_answer_mb * 1024 * 1024)

    @property
    def public_base(self) -> str:
        """Where the service is reached (public_url, else base_iri), ending with '/'."""
        return (self.public_url or self.base_iri).rstrip("/") + "/"

    @property
    def allowed_services(self) -> frozenset[str]:
        return frozenset(self.service_allowlist.split())

    @property
    def remote(self) -> bool:
        """True when a remote SPARQL service is the store (setting remote_query_url)."""
        return bool(self.remote_query_url)

    @property
    def project_root(self) -> Path | None:
        """The project folder `kg build` reads, or None for this checkout."""
        return Path(self.project_dir) if self.project_dir else None

    @property
    def extra_source_paths(self) -> list[Path]:
        """The files of `extra_sources`, in the order given."""
        return [Path(p) for p in self.extra_sources.split()]

    @property
    def writes_enabled(self) -> bool:
        return bool(self.write_token or self.curators_file)

    @property
    def worker_processes(self) -> int:
        """The gunicorn workers that actually run: one when writes are enabled (one writer per store)."""
        return 1 if self.writes_enabled else max(1, self.workers)


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _coerce(setting: Setting, value: Any) -> Any:
    """Turn a string from the environment or a flag into the setting's type."""
    kind = type(setting.default)
    if kind is bool and isinstance(value, str):
        if value.strip().lower() not in _BOOLEANS:
            raise SettingsError(f"setting {setting.name} ({setting.env}) is true or false; got {value!r}")
        return _BOOLEANS[value.strip().lower()]
    if setting.choices:
        if value not in setting.choices:
            raise SettingsError(f"setting {setting.name} ({setting.env}) is one of {', '.join(setting.choices)}; "
                                f"got {value!r}")
        return value
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {setting.name} ({setting.env}) expects {kind.__name__}, got {value!r}") from None


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then `KG_…` variables, then explicit overrides (CLI flags, test factories)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env in environ:
            values[setting.name] = _coerce(setting, environ[setting.env])
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise SettingsError(f"unknown setting {name!r}; known: {', '.join(_BY_NAME)}")
        if value is not None:
            values[name] = _coerce(_BY_NAME[name], value)
    return Settings(**values)


def settings_table_markdown() -> str:
    """The README's settings table, generated so it cannot drift from the code."""
    rows = ["| setting | CLI flag | environment | default | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        if isinstance(s.default, bool):
            default, flag = ("on" if s.default else "off"), f"{s.flag}` / `--no-{s.flag[2:]}"
        else:
            default, flag = (f"`{s.default}`" if s.default != "" else "(empty)"), s.flag
        rows.append(f"| {s.name} | `{flag}` | `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows)


assert {f.name for f in fields(Settings)} - {"extra"} == set(_BY_NAME), "Settings and SETTINGS disagree"


def rewrite_readme(path: str = "README.md") -> None:
    """Put the current table into the README's `## Settings` section."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    section = text.index("\n## Settings\n")
    start = text.index("| setting | CLI flag |", section)
    end = text.index("\n\n", start)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text[:start] + settings_table_markdown() + text[end:])


if __name__ == "__main__":
    import sys

    if "--readme" in sys.argv:
        rewrite_readme()
    else:
        print(settings_table_markdown())
