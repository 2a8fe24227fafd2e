"""What every view shows of the complaints a trial created, and what is lost or duplicated.

The truth is what the clients were told (the events named in each command's answer) plus the
complaint's head: the highest version any view knows. Per complaint:
- event store: its stream holds versions 1..head once each and every acknowledged event;
- audit trail: each of those events once (and, per trial, /verify says the chain is intact);
- notifications: the acknowledgement once per complaint, and for each assignment the assignee
  and the complainant once each, all SENT;
- mails: each SENT notification mailed once (the file transport's notifications.jsonl); a
  fault that cuts the delivery worker off between a send and its commit may leave one mail
  sent twice, once before the fault and once after it (at-least-once): that is reported as
  resent, not as duplicated. Two copies on the same side of the fault, or three, are
  duplicates;
- acknowledgement sagas: one per complaint, COMPLETED (assignment sagas: one per assignment);
- read model: the event store's events at their versions, up to the head; for a sample, the
  status the event store's reconstruction (`/api/events/state`) says.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from client import Failure, call
from suite import Suite
from workload import Tracked

# The event store's reconstructed state costs 2 s a complaint on the stand-in once it holds some
# 30,000 events (an unindexed query shape there): every complaint's read model is compared with
# the event store's stream, and this many per check also with the reconstruction.
RECONSTRUCTED_SAMPLE = 20
VIEWS = ("event store", "audit trail", "notifications", "mails", "ack sagas", "read model")


@dataclass
class Findings:
    lost: dict[str, list[str]] = field(default_factory=lambda: {v: [] for v in VIEWS})
    duplicated: dict[str, list[str]] = field(default_factory=lambda: {v: [] for v in VIEWS})
    # Mails sent again because the fault cut the sender off before it recorded the first send.
    resent_mails: list[str] = field(default_factory=list)

    def add(self, other: "Findings") -> None:
        for view in VIEWS:
            self.lost[view] += other.lost[view]
            self.duplicated[view] += other.duplicated[view]
        self.resent_mails += other.resent_mails

    @property
    def any_lost(self) -> bool:
        return any(self.lost.values())

    @property
    def any_duplicated(self) -> bool:
        return any(self.duplicated.values())


# When the fault was injected and when it was repaired (seconds since the epoch), for a fault
# that can make the sender mail again what it had sent (Fault.cuts_mail_commit).
FaultWindow = tuple[float, float]


class Mails:
    """When the file transport wrote each notificationId's mails (seconds since the epoch). The
    file only grows (and under `make up` holds every run's mails), so each refresh reads just
    what was appended."""

    def __init__(self, path: Path):
        self.path = path
        self.sent: defaultdict[str, list[float]] = defaultdict(list)
        self._offset = 0
        self._lock = threading.Lock()

    def refresh(self) -> dict[str, list[float]] | None:
        """None when there is no mail log (the notifications go out by SMTP)."""
        with self._lock:
            if not self.path.exists():
                return None
            with self.path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits
            self._offset += len(complete)
            for line in complete.splitlines():
                try:
                    mail = json.loads(line)
                    delivered = datetime.fromisoformat(mail["deliveredAt"]).timestamp()
                    self.sent[mail["notificationId"]].append(delivered)
                except (ValueError, KeyError):
                    continue
            return self.sent


def check_all(suite: Suite, complaints: list[Tracked], mails: Mails,
              fault: FaultWindow | None = None) -> dict[str, Findings]:
    """Every complaint; the event store's reconstruction only for a sample (see check_one)."""
    mails = mails.refresh()
    every = max(1, len(complaints) // RECONSTRUCTED_SAMPLE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda it: (it[1].id, check_one(suite, it[1], mails, it[0] % every == 0, fault)),
                           enumerate(complaints))
        return dict(results)


def check_one(suite: Suite, tracked: Tracked, mails: dict[str, list[float]] | None, reconstruct: bool = True,
              fault: FaultWindow | None = None) -> Findings:
    """MAILS None: the suite delivers by SMTP, not to a file, and the mails view is skipped.
    RECONSTRUCT: also compare the read model with the event store's reconstructed state.
    FAULT: the window of a fault that can make the sender mail something again."""
    found = Findings()
    cid = tracked.id
    stream = _paged(f"{suite.events}/api/events/stream/Complaint-{cid}", "events", "nextFromVersion", "fromVersion")
    trail = _paged(f"{suite.audit}/api/audit/trail/{cid}", "entries", "nextCursor", "cursor")
    read = _get(f"{suite.complaints}/api/complaints/{cid}")
    state = _get(f"{suite.events}/api/events/state/{cid}") if reconstruct else None
    notifications = (_get(f"{suite.notifications}/api/notifications?complaintId={cid}&limit=100") or {}).get("items", [])
    sagas = _get(f"{suite.complaints}/api/complaints/{cid}/sagas") or []

    acked = {e["eventId"]: e for e in tracked.acked_events}
    versions = Counter(e["metadata"]["version"] for e in stream)
    stored_ids = Counter(e["eventId"] for e in stream)
    head = max([e["version"] for e in acked.values()] + list(versions) + [(read or {}).get("version", 0)])

    # event store
    for v in range(1, head + 1):
        if versions[v] == 0:
            found.lost["event store"].append(f"{cid} v{v}")
    found.lost["event store"] += [f"{cid} {i} (acknowledged)" for i in acked if i not in stored_ids]
    found.duplicated["event store"] += [f"{cid} v{v} x{n}" for v, n in versions.items() if n > 1]
    found.duplicated["event store"] += [f"{cid} {i} x{n}" for i, n in stored_ids.items() if n > 1]

    # audit trail
    recorded = Counter(e["eventId"] for e in trail)
    for event_id in set(stored_ids) | set(acked):
        if recorded[event_id] == 0:
            found.lost["audit trail"].append(f"{cid} {event_id}")
    found.duplicated["audit trail"] += [f"{cid} {i} x{n}" for i, n in recorded.items() if n > 1]

    # notifications and mails
    by_key = Counter((n["triggeringEventId"], n["audience"], n["recipient"]) for n in notifications)
    found.duplicated["notifications"] += [f"{cid} {k[1]} for {k[0]} x{n}" for k, n in by_key.items() if n > 1]
    expected = []  # (triggering event, audience)
    events = {e["eventId"]: e for e in stream} | {i: {"eventType": e["eventType"]} for i, e in acked.items()}
    for event_id, event in events.items():
        if event["eventType"] == "COMPLAINT_CREATED":
            expected.append((event_id, "complainant"))
        elif event["eventType"] == "COMPLAINT_ASSIGNED":
            expected += [(event_id, "assignee"), (event_id, "complainant")]
    for event_id, audience in expected:
        sent = [n for n in notifications if n["triggeringEventId"] == event_id and n["audience"] == audience]
        if not sent:
            found.lost["notifications"].append(f"{cid} {audience} for {event_id}: none")
        elif not any(n["status"] == "SENT" for n in sent):
            found.lost["notifications"].append(f"{cid} {audience} for {event_id}: {sent[0]['status']}")
    for n in notifications if mails is not None else []:
        if n["status"] == "SENT":
            copies = sorted(mails.get(n["id"], []))
            if not copies:
                found.lost["mails"].append(f"{cid} notification {n['id']}")
            elif resent_across(copies, fault):
                found.resent_mails.append(f"{cid} notification {n['id']}")
            elif len(copies) > 1:
                found.duplicated["mails"].append(f"{cid} notification {n['id']} x{len(copies)}")

    # sagas
    acks = [s for s in sagas if s["kind"] == "ACKNOWLEDGEMENT"]
    if not acks:
        found.lost["ack sagas"].append(f"{cid}: no acknowledgement saga")
    elif len(acks) > 1:
        found.duplicated["ack sagas"].append(f"{cid}: {len(acks)} acknowledgement sagas")
    elif acks[0]["status"] != "COMPLETED":
        found.lost["ack sagas"].append(f"{cid}: acknowledgement saga {acks[0]['status']}")
    per_trigger = Counter(s["triggerEventId"] for s in sagas)
    found.duplicated["ack sagas"] += [f"{cid}: {n} sagas for {t}" for t, n in per_trigger.items() if n > 1]

    # a create retried after it may have been applied: its Idempotency-Key kept it one complaint
    if tracked.create_retried_maybe_applied:
        listed = (_get(f"{suite.complaints}/api/complaints?customer={tracked.customer}&limit=10") or {}).get("items", [])
        if len(listed) > 1:
            found.duplicated["read model"].append(f"{cid}: created {len(listed)} times for customer {tracked.customer}")

    # read model against the event store: the same events at the same versions, at the head,
    # and (sampled) the status the event store's own fold reconstructs
    if read is None:
        found.lost["read model"].append(f"{cid}: missing")
        return found
    timeline = sorted((e["version"], e["eventId"]) for e in read.get("timeline", []))
    if timeline != sorted((e["metadata"]["version"], e["eventId"]) for e in stream) or read["version"] != head:
        found.lost["read model"].append(
            f"{cid}: read model v{read['version']} with {len(timeline)} events, event store "
            f"{len(stream)} events, head v{head}")
    elif reconstruct and (state is None or (read["version"], read["status"]) != (state["version"], state["state"]["status"])):
        reconstructed = "nothing" if state is None else f"v{state['version']} {state['state']['status']}"
        found.lost["read model"].append(f"{cid}: read model v{read['version']} {read['status']}, event store reconstructs {reconstructed}")
    return found


def verify_audit_chain(suite: Suite) -> str | None:
    """None when /api/audit/verify says the chain is intact, else what it said."""
    reply = _get(f"{suite.audit}/api/audit/verify")
    if reply and reply.get("valid"):
        return None
    return f"/api/audit/verify: {reply}"


def _get(url: str):
    try:
        reply = call("GET", url, timeout=30)
    except Failure:
        return None
    return reply.body if reply.ok else None


def resent_across(copies: list[float], fault: FaultWindow | None) -> bool:
    """Two copies of a mail, the first written before the fault was repaired and the second
    after it began: the sender was cut off between the first send and its commit and sent it
    again, as it promises (at-least-once)."""
    if fault is None or len(copies) != 2:
        return False
    began, repaired = fault
    return copies[0] <= repaired and copies[1] >= began


def _paged(url: str, items: str, next_field: str, param: str) -> list:
    out, next_value = [], None
    for _ in range(100):
        page = _get(url if next_value is None else f"{url}?{param}={next_value}")
        if not page:
            break
        out += page.get(items, [])
        next_value = page.get(next_field)
        if next_value is None:
            break
    return out
