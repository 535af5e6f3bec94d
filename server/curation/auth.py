"""Who may write: named curators' tokens, sent as `Authorization: Bearer <token>` (RFC 6750 §2.1) only.

Two sources of tokens, both optional:
- the curators file (setting curators_file): one curator a line, `name sha256:<hex digest of the
  token>`. Only digests are stored, so the file can be read by the operator without exposing a
  token. It is read again whenever it changes on disk (its size, inode or modification time), so
  a curator is added or revoked without a restart; a file that does not parse refuses every file
  token (503) rather than letting a revoked one through;
- the single `write_token` setting, for the curator named by write_token_name.

A token in the URL (RFC 6750 §2.3 allows `access_token=`) would end up in access logs,
browser history and Referer headers, so any request carrying one is refused before
anything else happens, and the value is never echoed.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Request

from ..errors import BadRequest, Forbidden, NotFound, ServiceUnavailable, Unauthorized
from ..settings import Settings

URL_TOKEN_PARAMETERS = ("access_token", "token", "write_token")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_LINE = re.compile(r"^(\S+)\s+sha256:([0-9a-f]{64})$")


def refuse_token_in_url(req: Request) -> None:
    """Whatever the case of its name: `?Access_Token=` ends up in the logs as surely as `?access_token=`."""
    for name in req.args:
        if name.lower() in URL_TOKEN_PARAMETERS:
            raise BadRequest(f"a token in the URL ('{name.lower()}=') is refused: URLs get logged. Send it only as "
                             "the header 'Authorization: Bearer <token>'; the token may now be exposed, so replace it")


def digest(token: str) -> str:
    """A token as the curators file keeps it (tokens are random: a fast hash is enough)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise BadRequest(f"curator name {name!r} is not usable: lower-case letters, digits, '.', '_' and '-', "
                         "at most 64, starting with a letter or digit (it becomes part of an IRI)")
    return name


@dataclass(frozen=True)
class _Seen:
    stamp: tuple[int, int, int]
    curators: dict[str, str]          # name -> digest
    error: str | None


class Curators:
    """The curators file, read again when it changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen: _Seen | None = None
        self._lock = threading.Lock()

    def names(self) -> dict[str, str]:
        """name -> digest, as the file holds them now (empty without a file)."""
        if self.path is None:
            return {}
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            if self._seen is None or self._seen.stamp != stamp:
                self._seen = _read(self.path, stamp)
            seen = self._seen
        if seen.error:
            raise ServiceUnavailable(f"the curators file cannot be read ({seen.error}); no file token is accepted "
                                     "until it is fixed")
        return seen.curators

    def who(self, token: str) -> str | None:
        """The curator whose token this is, or None (every entry is compared, in constant time each)."""
        given = digest(token)
        found = None
        for name, known in self.names().items():
            if hmac.compare_digest(given, known):
                found = name
        return found


def _read(path: Path, stamp: tuple[int, int, int]) -> _Seen:
    curators: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _Seen(stamp, {}, str(exc))
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m or not NAME.match(m.group(1)):
            return _Seen(stamp, {}, f"line {number} is not 'name sha256:<64 hex digits>'")
        curators[m.group(1)] = m.group(2)
    return _Seen(stamp, curators, None)


def require_curator(req: Request, settings: Settings, curators: Curators) -> str:
    """The curator a request writes for; 401 without a token, 403 when writes are off or the token is unknown."""
    refuse_token_in_url(req)
    if not settings.writes_enabled:
        raise Forbidden("this service is read-only: writes are enabled by setting write_token (KG_WRITE_TOKEN) "
                        "or curators_file (KG_CURATORS_FILE)")
    header = req.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not given.strip():
        err = Unauthorized("this write needs the header 'Authorization: Bearer <your curator token>'")
        err.headers["WWW-Authenticate"] = 'Bearer realm="kg", scope="write"'
        raise err
    token = given.strip()
    if settings.write_token and hmac.compare_digest(token.encode("utf-8"), settings.write_token.encode("utf-8")):
        return settings.write_token_name
    name = curators.who(token)
    if name is None:
        raise Forbidden("the token is not a curator's token (or it was revoked); nothing was changed")
    return name


# -- the file, as `kg curator` edits it -------------------------------------------------------------

def add_curator(path: Path, name: str) -> str:
    """A new token for `name` (replacing an earlier one); the token is returned once and never stored."""
    check_name(name)
    token = secrets.token_urlsafe(32)
    lines = [ln for ln in _lines(path) if ln.split(None, 1)[:1] != [name]]
    _write(path, lines + [f"{name} sha256:{digest(token)}"])
    return token


def revoke_curator(path: Path, name: str) -> None:
    lines = _lines(path)
    kept = [ln for ln in lines if ln.split(None, 1)[:1] != [name]]
    if len(kept) == len(lines):
        raise NotFound(f"there is no curator {name!r} in {path}")
    _write(path, kept)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ["# curators: name sha256:<digest of the token> (kg curator add NAME / kg curator revoke NAME)"]


def _write(path: Path, lines: list[str]) -> None:
    """Replace the file in one rename, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".curators-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
