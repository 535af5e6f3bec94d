"""The fairness rule's slots (`store.admission`): a query waiting for its client's slot gets it
when that slot is given back, and one past its deadline is refused, the slots left as they were;
in a gevent worker a slot is given back when its query's job ends, not before."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from server.errors import Busy
from server.store.admission import Admission

from .conftest import ROOT


def test_a_waiting_query_takes_the_slot_its_client_gives_back() -> None:
    slots = Admission(total=4, per_client=1)
    release_first = slots.acquire("a", time.monotonic() + 60)
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(slots.acquire("a", time.monotonic() + 60)))
    waiter.start()
    other = slots.acquire("b", time.monotonic() + 60)   # another client is not held up meanwhile
    assert waiter.is_alive() and not got
    release_first()
    waiter.join(60)
    assert not waiter.is_alive() and len(got) == 1      # woken by the release, long before its deadline
    got[0]()  # type: ignore[operator]
    other()


def test_a_query_past_its_deadline_is_refused_and_holds_nothing() -> None:
    slots = Admission(total=1, per_client=1)
    release = slots.acquire("a", time.monotonic() + 60)
    with pytest.raises(Busy, match="max_client_queries"):
        slots.acquire("a", time.monotonic() + 0.05)
    release()
    release()   # a second call changes nothing
    slots.acquire("b", time.monotonic() + 60)()         # the slot is free again, once


GEVENT_SLOTS = """
from gevent import monkey; monkey.patch_all()
import gevent
from server.store.threads import NativeThreads
sleep = monkey.get_original("time", "sleep")
threads = NativeThreads(2)
given_back = []

def run(name, seconds, job):
    try:
        return threads.run(seconds, job, when_done=lambda: given_back.append(name))
    except Exception as exc:
        return type(exc).__name__

def until_back(name):   # bounded: a slot that never comes back fails the test after 60 s
    for _ in range(1200):
        if name in given_back:
            return
        gevent.sleep(0.05)

print(run("quick", 30, lambda: "done"), given_back)            # back by the time the answer is
print(run("failing", 30, lambda: 1 / 0), given_back)           # and when the job fails
print(run("runaway", 0.2, lambda: sleep(3)), given_back)       # not while the job goes on
until_back("runaway")
print(given_back)                                               # but once it has ended, once
waiting = gevent.spawn(run, "interrupted", 30, lambda: sleep(3))
gevent.sleep(0.2)
waiting.kill(block=True)
print(given_back)                                               # a wait cut short leaves it held
until_back("interrupted")
gevent.sleep(0.2)
print(given_back)
"""


def test_a_gevent_workers_slot_is_given_back_when_its_job_ends_not_before() -> None:
    """Under gevent a query's slot is given back as soon as its job has ended -- at once when the
    answer or the job's error is in, later for a job that runs past its time limit or whose wait
    is interrupted -- and once only."""
    run = subprocess.run([sys.executable, "-c", GEVENT_SLOTS], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "done ['quick']", "ZeroDivisionError ['quick', 'failing']", "TimeoutError ['quick', 'failing']",
        "['quick', 'failing', 'runaway']", "['quick', 'failing', 'runaway']",
        "['quick', 'failing', 'runaway', 'interrupted']"]
