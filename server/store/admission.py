"""How much of the engine one client may hold: the fairness rule.

A worker evaluates at most `query_threads` queries at once, and one client address at most
`max_client_queries` of them. A client's further queries wait for one of that client's own slots,
never for another client's; a query that is still waiting at its time limit is answered 503 with
`Retry-After`. So a client sending expensive queries over many connections slows itself down,
and a cheap query from anyone else finds a slot.

A slot is held by an evaluation, not by a request: a query answered 503 at its time limit keeps
its client's slot until its thread really ends (in a gunicorn worker, until the worker is
replaced), so the time limit cannot be used to start more work than the share allows.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import Busy

RETRY_AFTER_S = 1


class Admission:
    """Counts slots per client and in all; waiting is FIFO per client, by the client's deadline."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = max(1, total)
        self.per_client = max(1, per_client)
        self._held: dict[str, int] = {}
        self._in_use = 0
        self._waiting = 0   # acquires waiting for a slot: a release with none waiting wakes nobody
        self._cond = threading.Condition(threading.Lock())   # never taken twice by one holder

    def acquire(self, client: str, deadline: float) -> Callable[[], None]:
        """Wait for a slot for `client` until `deadline` (time.monotonic()); the release to call
        once the evaluation has ended. Raises Busy past the deadline."""
        with self._cond:
            while self._held.get(client, 0) >= self.per_client or self._in_use >= self.total:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Busy(self._busy_message(client), retry_after_s=RETRY_AFTER_S)
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1
            self._held[client] = self._held.get(client, 0) + 1
            self._in_use += 1
        done = [False]

        def release() -> None:
            with self._cond:
                if done[0]:
                    return
                done[0] = True
                left = self._held[client] - 1
                if left:
                    self._held[client] = left
                else:
                    del self._held[client]
                self._in_use -= 1
                if self._waiting:
                    self._cond.notify_all()
        return release

    def _busy_message(self, client: str) -> str:
        if self._held.get(client, 0) >= self.per_client:
            return (f"this client already has {self.per_client} queries running here (setting max_client_queries); "
                    f"the query waited for one of them to end until its time limit; send fewer at once")
        return (f"all {self.total} query slots stayed busy until the query's time limit (setting query_threads); "
                f"try again in {RETRY_AFTER_S} s")
