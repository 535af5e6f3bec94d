"""Accepted changes as RDF Patch files: the exact rows a change deleted and added, and who made it.

A change's diff is kept out of the graph. In the store, the change log holds each change's
PROV description only (a few triples, `changelog.activity_quads`); the quads it deleted and
added are a file of the patch log, one file per change, in RDF Patch
(https://afs.github.io/rdf-delta/rdf-patch.html), the format Apache Jena's RDF Delta replays:

    H id <https://kars-gyumri.example.org/id/change/20261206T101500123456Z-a1b2c3> .
    H operation "sparql-update" .
    H agent "alice" .
    ...
    TX .
    D <s> <p> <o> <g> .
    A <s> <p> <o> <g> .
    TC .

Only full IRIs are written (no prefixes), so every row after its letter is an N-Quads line and
the whole patch parses with pyoxigraph's N-Quads parser. Deleted rows come before added rows;
a change never deletes and adds the same quad. The patch log is a folder beside the store link
(`<store>.changes/`): it is not inside a build's store directory, so `kg build` does not have
to copy it, and `kg export-changes` copies files of it into `data/changes/` for review.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputSyntaxError

SUFFIX = ".rdfp"
_HEADER = "urn:x-kg:patch-header:"
_ID = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{6}$")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")


def is_change_id(text: str) -> bool:
    """Change ids are `YYYYMMDDTHHMMSSffffffZ-hhhhhh`: sortable by time, safe as file names."""
    return bool(_ID.match(text))


@dataclass
class Patch:
    """One accepted change: its description (the RDF Patch headers) and its rows."""

    id: str
    iri: str
    operation: str
    agent: str
    started: datetime
    ended: datetime
    graphs: list[str]
    removed: list[ox.Quad] = field(default_factory=list)
    added: list[ox.Quad] = field(default_factory=list)
    undoes: str | None = None
    comment: str | None = None
    previous: str | None = None

    def text(self) -> str:
        """The patch as RDF Patch text (rows sorted, so equal changes are equal files)."""
        lines = [f"H id <{self.iri}> .", f"H operation {_string(self.operation)} .",
                 f"H agent {_string(self.agent)} .", f"H started {_datetime(self.started)} .",
                 f"H ended {_datetime(self.ended)} ."]
        lines += [f"H graph <{g}> ." for g in self.graphs]
        if self.previous:
            lines.append(f"H prev <{self.previous}> .")
        if self.undoes:
            lines.append(f"H undoes <{self.undoes}> .")
        if self.comment:
            lines.append(f"H comment {_string(self.comment)} .")
        lines.append(f"H removed {_integer(len(self.removed))} .")
        lines.append(f"H added {_integer(len(self.added))} .")
        lines.append("TX .")
        lines += ["D " + row for row in _rows(self.removed)]
        lines += ["A " + row for row in _rows(self.added)]
        lines.append("TC .")
        return "\n".join(lines) + "\n"


def _string(value: str) -> str:
    return str(ox.Literal(value))


def _integer(value: int) -> str:
    return str(ox.Literal(str(value), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))


def _datetime(value: datetime) -> str:
    return str(ox.Literal(value.isoformat(), datatype=XSD_DATETIME))


def _rows(quads: Iterable[ox.Quad]) -> list[str]:
    text = ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS).decode("utf-8")
    return sorted(text.splitlines())


@dataclass
class Preview:
    """The head of a patch: its description, and at most `limit` of its rows of each kind."""

    patch: Patch
    total_removed: int
    total_added: int

    @property
    def cut(self) -> bool:
        return self.total_removed > len(self.patch.removed) or self.total_added > len(self.patch.added)


def parse_patch(text: str, source: str, *, limit: int | None = None) -> Preview:
    """Read a patch written by `Patch.text` (or by hand in the same form); at most `limit` rows
    of each kind when given. A malformed line is an InputSyntaxError naming the line."""
    headers: list[str] = []
    rows: dict[str, list[str]] = {"D": [], "A": []}
    seen = {"D": 0, "A": 0}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        code, _, rest = stripped.partition(" ")
        if code == "H":
            key, _, value = rest.partition(" ")
            headers.append(f"_:h <{_HEADER}{key}> {value}")
        elif code in rows:
            seen[code] += 1
            if limit is None or len(rows[code]) < limit:
                rows[code].append(rest)
        elif code not in ("TX", "TC"):
            raise InputSyntaxError(f"{source}: line {number}: a patch row starts with H, TX, D, A or TC, "
                                   f"not {code!r}", source=source, line=number)
    head = _parse(headers, ox.RdfFormat.N_TRIPLES, source)
    values: dict[str, list[ox.Literal | ox.NamedNode]] = {}
    for q in head:
        values.setdefault(q.predicate.value[len(_HEADER):], []).append(q.object)  # type: ignore[arg-type]

    def one(key: str, required: bool = True) -> str | None:
        found = values.get(key)
        if not found:
            if required:
                raise InputSyntaxError(f"{source}: the patch has no 'H {key}' header", source=source)
            return None
        return found[0].value

    iri = one("id") or ""
    patch = Patch(id=iri.rsplit("/", 1)[-1], iri=iri, operation=one("operation") or "", agent=one("agent") or "",
                  started=datetime.fromisoformat(one("started") or ""), ended=datetime.fromisoformat(one("ended") or ""),
                  graphs=[g.value for g in values.get("graph", [])],
                  removed=_parse(rows["D"], ox.RdfFormat.N_QUADS, source),
                  added=_parse(rows["A"], ox.RdfFormat.N_QUADS, source),
                  undoes=one("undoes", False), comment=one("comment", False), previous=one("prev", False))
    return Preview(patch, seen["D"], seen["A"])


def _parse(lines: list[str], fmt: ox.RdfFormat, source: str) -> list[ox.Quad]:
    if not lines:
        return []
    try:
        return list(ox.parse("\n".join(lines).encode("utf-8"), format=fmt))
    except SyntaxError as exc:
        raise InputSyntaxError(f"{source}: a row does not parse: {exc}", source=source) from None


class PatchLog:
    """The folder of patches of accepted changes, one `<change id>.rdfp` file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, store_link: Path) -> PatchLog:
        """The patch log of a store: `<store>.changes/` next to the store link."""
        link = Path(os.path.abspath(store_link))
        return cls(link.parent / (link.name + ".changes"))

    def path(self, change_id: str) -> Path:
        if not is_change_id(change_id):
            raise ValueError(f"not a change id: {change_id!r}")
        return self.folder / (change_id + SUFFIX)

    def save(self, patch: Patch) -> Path:
        """Write the patch durably (a new file, synced, then renamed into place)."""
        return write_durably(self.path(patch.id), patch.text())

    def load(self, change_id: str, *, limit: int | None = None) -> Preview | None:
        path = self.path(change_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return parse_patch(text, str(path), limit=limit)

    def discard(self, change_id: str) -> None:
        self.path(change_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        """Every change id with a patch here, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name[:-len(SUFFIX)] for p in self.folder.iterdir()
                      if p.name.endswith(SUFFIX) and is_change_id(p.name[:-len(SUFFIX)]))


def write_durably(path: Path, text: str) -> Path:
    """Write `text` to `path` so that a crash leaves either no file or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path
