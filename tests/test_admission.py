"""The fairness rule's slots (`store.admission`): a query waiting for its client's slot gets it
when that slot is given back, and one past its deadline is refused, the slots left as they were."""
from __future__ import annotations

import threading
import time

import pytest

from server.errors import Busy
from server.store.admission import Admission


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
