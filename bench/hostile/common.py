"""Shared by the hostile benchmarks: start a bounded `kg serve`, measure its processes, write results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import free_port, stop_group

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / "bench" / "results"
KG = str(Path(sys.executable).with_name("kg"))


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_group(self.proc, wait_s=20)


def start(store: Path, env: dict[str, str], lifetime_s: int, log: Path, port: int | None = None) -> Served:
    """`kg serve` under `timeout` in its own session: it stops by itself whatever happens here."""
    port = port or free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, "KG_STORE": str(store), "KG_PORT": str(port), "KG_HOST": "127.0.0.1", **env}
    with log.open("ab") as fh:
        proc = subprocess.Popen(["timeout", "-k", "10", str(lifetime_s), KG, "serve"], env=environ,
                                stdout=subprocess.DEVNULL, stderr=fh, start_new_session=True)
    srv = Served(proc, port)
    wait_ready(srv)
    return srv


def wait_ready(srv: Served, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"kg serve exited with {srv.proc.returncode}")
        try:
            with urllib.request.urlopen(srv.url + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("kg serve did not answer in time")


@contextmanager
def serve(store: Path, env: dict[str, str], lifetime_s: int, log: Path) -> Iterator[Served]:
    srv = start(store, env, lifetime_s, log)
    try:
        yield srv
    finally:
        srv.stop()


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                out.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def descendants(pid: int) -> list[int]:
    children, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def _cmd(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def process_rss(pid: int) -> dict[str, int]:
    """RSS (kB) of the server's processes: gunicorn's master and its workers (queries run on
    threads of the workers)."""
    total = sum(_rss(p) for p in descendants(pid) if "kg serve" in _cmd(p) or "/kg" in _cmd(p))
    return {"gunicorn": total, "total": total}


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 60) -> tuple[int, bytes]:
    """One request on a connection of its own: (status, body); status 0 when it failed."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


def write_results(name: str, data: dict[str, Any], markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for suffix in (stamp, "latest"):
        (RESULTS / f"{name}-{suffix}.json").write_text(json.dumps(data, indent=2) + "\n")
        (RESULTS / f"{name}-{suffix}.md").write_text(markdown)
