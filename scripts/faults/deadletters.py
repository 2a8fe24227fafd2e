"""How many messages wait in each dead-letter queue of the suite's vhost (management API).
The management API's figures lag by its statistics interval (5 s by default); the trial reads
them after the views are checked, which takes longer than that."""

from __future__ import annotations

from suite import Suite


def dead_letter_counts(suite: Suite) -> dict[str, int]:
    path = f"queues/{suite.management.quote(suite.vhost)}?columns=name,messages"
    queues = suite.management.request("GET", path).body
    return {q["name"]: int(q.get("messages") or 0) for q in queues if q["name"].endswith(".dlq")}
