"""The eight faults. Each `inject` does the damage and the repair (a supervisor's restart, the
broker's app started again) and returns once the repair was done.

Local faults touch only the suite under test (its processes, its vhost) and are safe on a
shared machine. Global faults stop a server every user of the machine shares; their targets
are configurable, so they can be tried on private instances (scripts/faults/private-infra.sh):
  FAULTS_RABBITMQ_NODE   the node rabbitmqctl talks to (rabbitmqctl -n), default its own
  FAULTS_PG_CLUSTER      "<version> <name>" for pg_ctlcluster, default the newest "<v> main"
  MONGODB_URL            the stand-in on that port (pid in .run/pids/mongo[-PORT].pid, or
                         FAULTS_MONGO_PIDFILE) is killed and started again with its command line
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from client import Failure, call
from suite import ROOT, Suite
from workload import Ledger

EXCHANGES = {"COMPLAINT": "complaints.events", "NOTIFICATION": "notifications.events",
             "AUDIT": "audit.events", "SAGA": "saga.events", "ERROR": "errors.events"}
KILL_DOWN_SECONDS = 2.0
RABBITMQ_STOPPED_SECONDS = 5.0
MONGO_DOWN_SECONDS = 3.0
DUPLICATES = 50


@dataclass
class Fault:
    name: str
    local: bool
    description: str
    inject: Callable[["Suite", "Ledger"], str]  # returns what it did
    # The fault can cut the delivery worker off between a mail's send and the commit that
    # records it: the mail is sent again (at-least-once, notification-service/src/delivery/
    # worker.rs), and the trial tells that resend apart from a duplicate (views.py).
    cuts_mail_commit: bool = False


# ---- local ------------------------------------------------------------------------------------

def close_connections(suite: Suite, _ledger: Ledger) -> str:
    """Every connection of the suite's vhost force-closed: by the broker's own command when it
    is here and may be used (it sees connections the management API lists only seconds later),
    else through the management API."""
    if _have("rabbitmqctl"):
        try:
            _run(_rabbitmqctl("close_all_connections", "-p", suite.vhost, "fault suite: forced close"))
            return f"rabbitmqctl close_all_connections -p {suite.vhost}"
        except RuntimeError as error:
            print(f"fault suite: {error}; closing through the management API instead", flush=True)
    path = f"vhosts/{suite.management.quote(suite.vhost)}/connections"
    names = [c["name"] for c in suite.management.request("GET", path).body]
    for name in names:
        suite.management.request("DELETE", f"connections/{suite.management.quote(name)}")
    return f"{len(names)} connections of vhost {suite.vhost} closed (management API)"


def kill_service(service: str) -> Callable[[Suite, Ledger], str]:
    def inject(suite: Suite, _ledger: Ledger) -> str:
        pid = suite.pid(service)
        os.kill(pid, signal.SIGKILL)
        time.sleep(KILL_DOWN_SECONDS)
        started = time.monotonic()
        suite.relaunch(service)
        return f"SIGKILL pid {pid}, restarted after {KILL_DOWN_SECONDS:.0f} s, ready {time.monotonic() - started:.1f} s later"
    return inject


def publish_duplicates(suite: Suite, ledger: Ledger) -> str:
    """50 events the event store holds, published again into the suite's vhost as they were:
    complaint events and the notification events of their acknowledgements."""
    ids = list(ledger.complaints)
    random.Random(7).shuffle(ids)
    events = []
    for cid in ids:
        if len(events) >= DUPLICATES:
            break
        events += _stream(suite, f"Complaint-{cid}")[:2]
        notes = call("GET", f"{suite.notifications}/api/notifications?complaintId={cid}").body or {}
        for note in notes.get("items", [])[:1]:
            events += _stream(suite, f"Notification-{note['id']}")[:1]
    events = events[:DUPLICATES]
    routed = 0
    for stored in events:
        envelope = {k: stored[k] for k in ("eventId", "eventType", "aggregateId", "aggregateType", "eventData", "metadata")}
        event_type = envelope["eventType"]
        exchange = EXCHANGES[event_type.split("_")[0]]
        body = {
            "routing_key": event_type.lower().replace("_", "."),
            "payload": json.dumps(envelope),
            "payload_encoding": "string",
            "properties": {
                "message_id": envelope["eventId"], "type": event_type, "delivery_mode": 2,
                "content_type": "application/json", "app_id": envelope["metadata"].get("source", "faults"),
                "correlation_id": envelope["metadata"].get("correlationId", ""),
            },
        }
        path = f"exchanges/{suite.management.quote(suite.vhost)}/{exchange}/publish"
        routed += bool(suite.management.request("POST", path, body).body.get("routed"))
    kinds = sorted({e["eventType"] for e in events})
    return f"{len(events)} stored events published again ({routed} routed): {', '.join(kinds)}"


def _stream(suite: Suite, stream_id: str) -> list:
    try:
        reply = call("GET", f"{suite.events}/api/events/stream/{stream_id}")
    except Failure:
        return []
    return reply.body.get("events", []) if reply.ok else []


# ---- global -----------------------------------------------------------------------------------

def stop_rabbitmq_app(_suite: Suite, _ledger: Ledger) -> str:
    _run(_rabbitmqctl("stop_app"))
    time.sleep(RABBITMQ_STOPPED_SECONDS)
    _run(_rabbitmqctl("start_app"))
    return f"rabbitmqctl stop_app, {RABBITMQ_STOPPED_SECONDS:.0f} s, start_app"


def restart_postgres(_suite: Suite, _ledger: Ledger) -> str:
    cluster = os.environ.get("FAULTS_PG_CLUSTER") or f"{_newest_pg_version()} main"
    version, name = cluster.split()
    started = time.monotonic()
    _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"])
    return f"pg_ctlcluster {version} {name} restart ({time.monotonic() - started:.1f} s)"


def restart_mongo_standin(_suite: Suite, _ledger: Ledger) -> str:
    url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017")
    port = urllib.parse.urlsplit(url).port or 27017
    pidfile = Path(os.environ.get("FAULTS_MONGO_PIDFILE")
                   or ROOT / ".run" / "pids" / ("mongo.pid" if port == 27017 else f"mongo-{port}.pid"))
    pid = int(pidfile.read_text().strip())
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    if not any("nx-27017" in a for a in argv):
        raise RuntimeError(f"pid {pid} in {pidfile} is not the stand-in: {argv}")
    os.kill(pid, signal.SIGKILL)
    time.sleep(MONGO_DOWN_SECONDS)
    # The stand-in daemonizes itself (-d) and writes its pid file again.
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    return f"SIGKILL stand-in pid {pid} (port {port}), started again after {MONGO_DOWN_SECONDS:.0f} s"


def _rabbitmqctl(*args: str) -> list[str]:
    node = os.environ.get("FAULTS_RABBITMQ_NODE")
    return ["rabbitmqctl", *(["-n", node] if node else []), *args]


def _newest_pg_version() -> str:
    versions = sorted((p.name for p in Path("/etc/postgresql").iterdir()), key=lambda v: [int(x) for x in v.split(".")])
    return versions[-1]


def _have(command: str) -> bool:
    return subprocess.run(["sh", "-c", f"command -v {command}"], capture_output=True).returncode == 0


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")


ALL = [
    Fault("rabbitmq-connections-closed", True, "RabbitMQ connections force-closed", close_connections),
    Fault("rabbitmq-app-stopped", False, "the RabbitMQ app stopped for 5 s", stop_rabbitmq_app),
    Fault("audit-service-killed", True, "audit-service SIGKILLed and restarted", kill_service("audit-service")),
    Fault("notification-service-killed", True, "notification-service SIGKILLed and restarted", kill_service("notification-service"),
          cuts_mail_commit=True),
    Fault("complaint-service-killed", True, "complaint-service SIGKILLed and restarted", kill_service("complaint-service")),
    Fault("postgres-restarted", False, "PostgreSQL restarted", restart_postgres, cuts_mail_commit=True),
    Fault("mongo-standin-restarted", False, "the MongoDB stand-in killed and restarted", restart_mongo_standin),
    Fault("duplicate-events", True, "50 stored events published again", publish_duplicates),
]
# Not a fault: the same trial with nothing injected, to tell a fault's cost from the lag the
# load alone causes (`--faults baseline`).
BASELINE = Fault("baseline", True, "nothing injected (the load alone)", lambda _suite, _ledger: "nothing")
BY_NAME = {f.name: f for f in ALL + [BASELINE]}
