"""Recovery time: from the fault's injection until a complaint created once the fault was
repaired (the killed service restarted, the broker's app started again, ...) shows in every
view (event store, audit trail, acknowledgement notified, mailed and its saga completed, read
model). The canary is created as soon as the API takes it, so the figure includes the time the
pipeline needs to catch up with the traffic queued behind the fault."""

from __future__ import annotations

import threading
import time

from suite import Suite
from views import Mails, check_one
from workload import Workload


class Canary:
    def __init__(self, suite: Suite, mails: Mails):
        """Made when the fault is injected; started once it is repaired."""
        self.suite = suite
        self.mails = mails
        self.injected = time.monotonic()
        self.recovered: float | None = None
        self.waiting_on: list[str] = []  # the views that still lacked the canary at the last look
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float) -> float | None:
        """Seconds from injection to recovery, or None if it did not recover within TIMEOUT."""
        self._thread.join(timeout)
        self._stop.set()
        return self.recovered

    def _run(self) -> None:
        probe = Workload(self.suite.complaints, rate=1, duration=0, lifecycle_share=0, seed=0)
        cid = probe.create(n=-1)
        if cid is None:
            return
        tracked = probe.ledger.complaints[cid]
        while not self._stop.is_set():
            found = check_one(self.suite, tracked, self.mails.refresh())
            if not found.any_lost:
                self.recovered = time.monotonic() - self.injected
                return
            self.waiting_on = [view for view, gaps in found.lost.items() if gaps]
            time.sleep(0.5)
