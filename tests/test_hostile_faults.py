"""The machine's faults at start: a store directory that cannot be written gives one clear line
and exit code 2, never a traceback."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import KG, ROOT

pytestmark = pytest.mark.slow


def run(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, KG, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def assert_one_line_error(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kg: error: "), done.stderr


def test_store_under_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    assert_one_line_error(run("build", "--store", str(blocker / "store")))
    assert_one_line_error(run("load", "--store", str(blocker / "store"), str(ROOT / "data" / "outside.ttl")))


def _read_only_mount_works(folder: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' && "
                            f"! touch '{folder}/probe'"], capture_output=True, timeout=30)
    return probe.returncode == 0


def test_read_only_store_directory_is_one_line(tmp_path: Path) -> None:
    """A read-only file system (a bind mount in a private mount namespace): build and load refuse
    in one line; the query command, which only reads, still works."""
    folder = tmp_path / "ro"
    folder.mkdir()
    built = run("build", "--store", str(folder / "store"))
    assert built.returncode == 0, built.stderr
    if not _read_only_mount_works(folder):
        pytest.skip("cannot make a read-only bind mount here (needs unshare and CAP_SYS_ADMIN)")
    mount = f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' && exec \"$@\""
    prefix = ("unshare", "-m", "sh", "-c", mount, "sh")
    assert_one_line_error(run("build", "--store", str(folder / "store"), prefix=prefix))
    assert_one_line_error(run("load", "--store", str(folder / "store"), str(ROOT / "data" / "outside.ttl"),
                              prefix=prefix))
    asked = run("query", "--store", str(folder / "store"), "ASK { ?s ?p ?o }", "--format", "json", prefix=prefix)
    assert asked.returncode == 0 and '"boolean": true' in asked.stdout.replace('"boolean":true', '"boolean": true')
