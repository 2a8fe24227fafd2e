"""The traffic of a trial: paced creates through the public REST API, and for a share of them
the lifecycle (assign, process, resolve, close or a priority change), as a support desk would.

Every command a client was told succeeded is written in the ledger with the events the answer
named (eventId, version): those must show in every view. A create is retried with its
Idempotency-Key until it is answered; another command is retried only when it certainly was not
applied (connection refused, 503), so the ledger never guesses. Every failed attempt is counted
as a client error by operation and kind.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from client import Failure, call

AGENTS = ("agent-001", "agent-002", "agent-003")
PRIORITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
RETRY_FOR_SECONDS = 90.0


@dataclass
class Tracked:
    id: str
    acked_events: list[dict] = field(default_factory=list)  # {"eventId","eventType","version"}
    customer: str = ""
    # The create met a timeout or a reset before its answer: the retry must not have created a
    # second complaint (views.py counts the customer's complaints).
    create_retried_maybe_applied: bool = False


class Ledger:
    def __init__(self):
        self._lock = threading.Lock()
        self.complaints: dict[str, Tracked] = {}
        self.errors: Counter = Counter()
        self.commands = Counter()

    def acked(self, complaint_id: str, events: list[dict]) -> Tracked:
        with self._lock:
            tracked = self.complaints.setdefault(complaint_id, Tracked(complaint_id))
            tracked.acked_events.extend(events)
            return tracked

    def error(self, operation: str, kind: str) -> None:
        with self._lock:
            self.errors[f"{operation}: {kind}"] += 1

    def count(self, operation: str) -> None:
        with self._lock:
            self.commands[operation] += 1


class Workload:
    def __init__(self, complaints_url: str, rate: float, duration: float, lifecycle_share: float,
                 seed: int):
        self.url = complaints_url
        self.rate = rate
        self.duration = duration
        self.lifecycle_share = lifecycle_share
        self.random = random.Random(seed)
        self.ledger = Ledger()
        self.tag = uuid.uuid4().hex[:8]  # customers are unique per trial

    def run(self) -> None:
        """Blocks for the duration, then until every started client has finished."""
        with ThreadPoolExecutor(max_workers=256, thread_name_prefix="client") as pool:
            started = time.monotonic()
            n = 0
            while True:
                due = started + n / self.rate
                if due - started >= self.duration:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                lifecycle = self.random.random() < self.lifecycle_share
                pool.submit(self._client, n, lifecycle, self.random.randrange(1 << 30))
                n += 1

    def _client(self, n: int, lifecycle: bool, seed: int) -> None:
        rng = random.Random(seed)
        try:
            complaint_id = self.create(n)
            if complaint_id is None or not lifecycle:
                return
            steps = [("assign", {"agentId": rng.choice(AGENTS)}), ("process", {}),
                     ("resolve", {"resolution": "Refunded the second debit"})]
            steps.append(("close", {}) if rng.random() < 0.7
                         else ("priority", {"priority": PRIORITIES[(n + 1) % 4], "reason": "customer called again"}))
            for operation, body in steps:
                time.sleep(rng.uniform(0.1, 1.0))
                if not self.command(complaint_id, operation, body):
                    return
        except Exception as error:  # a client must never die silently
            self.ledger.error("client", f"{type(error).__name__}: {error}")

    def create(self, n: int) -> str | None:
        body = {
            "title": f"Fault trial complaint {n}",
            "description": "Two debits for one order",
            "category": "billing",
            "priority": PRIORITIES[n % 4],
            "customer": {"id": f"c-{self.tag}-{n}", "name": f"Customer {n}", "email": f"customer{n}@example.com"},
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        ambiguous: list[bool] = []
        reply = self._send("create", "POST", f"{self.url}/api/complaints", body, headers,
                           retry_maybe_applied=True, ambiguous=ambiguous)
        if reply is None:
            return None
        tracked = self.ledger.acked(reply.body["id"], reply.body.get("events", []))
        tracked.customer = body["customer"]["id"]
        tracked.create_retried_maybe_applied = bool(ambiguous)
        return reply.body["id"]

    def command(self, complaint_id: str, operation: str, body: dict) -> bool:
        url = f"{self.url}/api/complaints/{complaint_id}/{operation}"
        reply = self._send(operation, "PUT", url, body, {}, retry_maybe_applied=False)
        if reply is None:
            return False
        self.ledger.acked(complaint_id, reply.body.get("events", []))
        return True

    def _send(self, operation, method, url, body, headers, retry_maybe_applied: bool, ambiguous=None):
        """The 2xx reply, or None once retrying could apply the command twice or took too long.
        AMBIGUOUS (a list) gets an entry for each failure after which the request may have
        been applied."""
        self.ledger.count(operation)
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            try:
                reply = call(method, url, body, headers, timeout=15)
            except Failure as failure:
                self.ledger.error(operation, failure.kind)
                if failure.applied_maybe and ambiguous is not None:
                    ambiguous.append(True)
                if failure.applied_maybe and not retry_maybe_applied:
                    return None
            else:
                if reply.ok:
                    return reply
                self.ledger.error(operation, str(reply.status))
                if reply.status != 503 and not (retry_maybe_applied and reply.status >= 500):
                    return None
            if time.monotonic() > deadline:
                return None
            time.sleep(0.5)
