#!/usr/bin/env python3
"""The pipeline benchmark: how far behind the commit each view of the suite runs under paced load.

Run through scripts/ops/bench-pipeline.sh (make bench-pipeline RATE=300 SECONDS=120), which
finds the services and k6. This script:

1. snapshots the CPU time of every process of the suite (/proc): the four services (found by
   the port they listen on), PostgreSQL, RabbitMQ, Redis and the MongoDB stand-in;
2. runs k6/pipeline-load.js: RATE creates/s for SECONDS through the public API, a share of
   them through the whole lifecycle; each created id is logged;
3. counts the messages waiting in the services' queues when the load stops and 5 s later (AMQP
   passive declares: the broker counts them when asked), then waits until the work queues are
   empty, messages held unacknowledged by consumers included (management API): the CPU
   window ends there;
4. for a sample of the complaints, reads each view's own write time from the public APIs and
   compares it with the commit time of the event it reflects (the event's `timestamp`):
   event store `storedAt`, audit `recordedAt`, notification `createdAt` and `sentAt`, the
   acknowledgement saga's `finishedAt`; and, for the complaints created last, when each view
   wrote their last effect, counted from the end of the load (the management API's counts
   in 3 lag by up to 5 s: quorum queues refresh them on their tick);
5. prints the lags (p50/p99/max), the backlog, CPU seconds and disk writes per complaint per
   process, and how much of the window tasks waited on the disk or for a core (pressure stall
   information), and writes them to .run/bench/pipeline-<time>.{md,json}.

With --smoke it exits non-zero when a sampled complaint is missing from a view (CI).
Standard library and pika (scripts/ops/requirements.txt; bench-pipeline.sh installs it).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import math
import os
import random
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WORK_QUEUE_PREFIXES = ("complaint-service.", "notification-service.", "audit-service.", "event-store-service.")


def say(message: str) -> None:
    print(f"bench-pipeline: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP


def get_json(url: str, timeout: float = 30.0, auth: tuple[str, str] | None = None):
    request = urllib.request.Request(url, headers={"accept": "application/json"})
    if not auth and os.environ.get("TOKEN"):
        # The services want a bearer token (scripts/token.sh); RabbitMQ's API gets `auth`.
        request.add_header("authorization", f"Bearer {os.environ['TOKEN']}")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


# ---------------------------------------------------------------------------------------------
# Processes and their CPU time (/proc)


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def pid_listening_on(port: int) -> int | None:
    inodes = listening_inodes(port)
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def process_table() -> dict[int, tuple[str, str]]:
    """pid -> (comm, cmdline)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry.name)] = (comm, cmdline)
    return table


def cpu_ticks(pid: int) -> int:
    """utime + stime of the process and of its children it has waited for (exited backends of
    PostgreSQL are counted by the postmaster)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime


def written_bytes(pid: int) -> int:
    """Bytes the process caused to be written to storage (/proc/<pid>/io `write_bytes`; the
    writes of processes that ended are not counted, unlike their CPU)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def stalled_us() -> dict[str, int]:
    """Microseconds since boot in which some task waited on the disk (`io`) or for a core
    (`cpu`), from the kernel's pressure stall information; empty where the kernel has none."""
    stalled = {}
    for resource in ("io", "cpu"):
        try:
            some = Path(f"/proc/pressure/{resource}").read_text().splitlines()[0]
            stalled[resource] = int(some.rsplit("total=", 1)[1])
        except (OSError, IndexError, ValueError):
            pass
    return stalled


class Groups:
    """The processes of the suite, by the name the report gives them."""

    def __init__(self, service_ports: dict[str, int]):
        self.service_ports = service_ports

    def members(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for name, port in self.service_ports.items():
            # `make up INSTANCES=N` runs the k-th instance on the first one's port + 100 (k-1).
            pids = (pid_listening_on(port + 100 * k) for k in range(10))
            groups[name] = [pid for pid in pids if pid]
        for pid, (comm, cmdline) in process_table().items():
            if comm == "postgres" or comm.startswith("postgres:"):
                groups.setdefault("postgresql", []).append(pid)
            elif comm in ("beam.smp", "erl_child_setup", "epmd", "inet_gethost"):
                groups.setdefault("rabbitmq", []).append(pid)
            elif comm == "redis-server":
                groups.setdefault("redis", []).append(pid)
            elif "nx-27017" in cmdline and (comm.startswith("python") or comm == "nx-27017"):
                groups.setdefault("mongodb stand-in", []).append(pid)
        return groups

    def snapshot(self) -> dict[str, dict[int, int]]:
        """name -> pid -> CPU ticks so far."""
        return {name: {pid: cpu_ticks(pid) for pid in pids} for name, pids in self.members().items()}

    def written(self) -> dict[str, dict[int, int]]:
        """name -> pid -> bytes written to storage so far."""
        return {name: {pid: written_bytes(pid) for pid in pids} for name, pids in self.members().items()}


def used_between(before: dict[str, dict[int, int]], after: dict[str, dict[int, int]]) -> dict[str, int | None]:
    """What each group used between two snapshots (CPU ticks, bytes written), process by
    process: a process started meanwhile counts from zero, one that ended counts through its
    parent's children time where the kernel keeps one (CPU: a PostgreSQL backend through the
    postmaster). A group none of whose processes lived through the window was restarted:
    None (unknown)."""
    used: dict[str, int | None] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        if old and new and not set(old) & set(new):
            used[name] = None
            continue
        used[name] = sum(amount - old.get(pid, 0) for pid, amount in new.items())
    return used


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


# ---------------------------------------------------------------------------------------------
# RabbitMQ


class Management:
    def __init__(self, url: str, vhost: str):
        parsed = urllib.parse.urlsplit(url)
        self.auth = (urllib.parse.unquote(parsed.username or "guest"), urllib.parse.unquote(parsed.password or "guest"))
        self.base = f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 15672}"
        self.vhost = urllib.parse.quote(urllib.parse.unquote(vhost), safe="")

    def queues(self) -> dict[str, int]:
        """Messages in each of the services' queues (work, retry and dead-letter)."""
        url = f"{self.base}/api/queues/{self.vhost}?columns=name,messages"
        try:
            queues = get_json(url, timeout=10, auth=self.auth)
        except (urllib.error.URLError, OSError, ValueError) as error:
            say(f"cannot read the queues ({error})")
            return {}
        return {q["name"]: int(q.get("messages") or 0) for q in queues if q["name"].startswith(WORK_QUEUE_PREFIXES)}


class Waiting:
    """Messages waiting in each of the services' queues, counted by the broker when asked (an
    AMQP passive declare of each queue). The management API's counts of quorum queues are
    refreshed on the queue's tick, every 5 s: read 5 s after the load stopped, they may still
    describe the moment it stopped. A declare does not count the messages a consumer holds
    unacknowledged, which the management API's `messages` does."""

    def __init__(self, amqp_url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()

    def count(self, names: list[str]) -> dict[str, int]:
        counts = {}
        for name in names:
            try:
                counts[name] = self.channel.queue_declare(name, passive=True).method.message_count
            except pika.exceptions.ChannelClosedByBroker:
                # The queue is gone (a passive declare of a missing queue closes the channel).
                self.channel = self.connection.channel()
        return counts

    def close(self) -> None:
        try:
            self.connection.close()
        except pika.exceptions.AMQPError:
            pass


def work_backlog(queues: dict[str, int]) -> int:
    return sum(n for name, n in queues.items() if not is_parking(name))


def is_parking(name: str) -> bool:
    return ".dlq" in name or ".retry." in name


# ---------------------------------------------------------------------------------------------
# PostgreSQL: which tables were read by sequential scans during the run


def suite_schemas() -> list[str]:
    """The services' schemas: the dev suite's (scripts/ops/dev-suite.sh), or the defaults."""
    if os.environ.get("BENCH_SCHEMAS"):
        return os.environ["BENCH_SCHEMAS"].split(",")
    suite = os.environ.get("OPS_SUITE_ID")
    names = ("complaint", "notification", "audit")
    return [f"test_{suite}_{name}" for name in names] if suite else list(names)


def psql(query: str) -> str | None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    try:
        out = subprocess.run(["psql", url, "-AtF", "\t", "-c", query], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def table_scans(schemas: list[str]) -> dict[str, tuple[int, int, int]]:
    """schema.table -> (seq_scan, seq_tup_read, idx_scan), through psql; empty without it."""
    names = ",".join("'" + s.replace("'", "") + "'" for s in schemas)
    out = psql("SELECT schemaname || '.' || relname, seq_scan, seq_tup_read, COALESCE(idx_scan, 0) "
               f"FROM pg_stat_user_tables WHERE schemaname IN ({names})")
    if out is None:
        return {}
    scans = {}
    for line in out.splitlines():
        table, seq, read, idx = line.split("\t")
        scans[table] = (int(seq), int(read), int(idx))
    return scans


# ---------------------------------------------------------------------------------------------
# Reading the views


FRACTION = re.compile(r"\.(\d+)")


def statement_counters() -> dict[str, tuple[int, float, str]] | None:
    """queryid -> (calls, exec ms, query) from pg_stat_statements in this database; None if
    the extension is not loaded (it needs shared_preload_libraries, a PostgreSQL setting)."""
    out = psql("SELECT queryid, calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
               "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")
    if out is None:
        return None
    counters = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            counters[parts[0]] = (int(parts[1]), float(parts[2]), parts[3])
    return counters


def statements_used(before, after, complaints: int) -> dict | None:
    """Statements per complaint during the run, and the ones that cost most."""
    if before is None or after is None or not complaints:
        return None
    used = []
    for key, (calls, exec_ms, query) in after.items():
        calls0, exec0, _ = before.get(key, (0, 0.0, query))
        if calls > calls0:
            used.append({"query": query, "calls": calls - calls0, "execMs": exec_ms - exec0})
    used.sort(key=lambda u: -u["execMs"])
    transactions = sum(u["calls"] for u in used if u["query"].strip().upper() == "BEGIN")
    return {
        "perComplaint": sum(u["calls"] for u in used) / complaints,
        "transactionsPerComplaint": transactions / complaints,
        "execMsPerComplaint": sum(u["execMs"] for u in used) / complaints,
        "top": [dict(u, callsPerComplaint=u["calls"] / complaints, execMsPerComplaint=u["execMs"] / complaints)
                for u in used[:10]],
    }


def instant(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp (any number of fractional digits)."""
    if not text:
        return None
    text = FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Views:
    def __init__(self, urls: dict[str, str]):
        self.urls = urls

    def complaint(self, complaint_id: str) -> dict:
        """What each view shows of one complaint; a view that cannot answer shows nothing."""
        found: dict = {"id": complaint_id}

        def fetch(key: str, url: str):
            try:
                found[key] = get_json(url)
            except (urllib.error.URLError, OSError, ValueError) as error:
                found[key] = None
                found.setdefault("errors", []).append(f"{key}: {error}")

        fetch("events", f"{self.urls['events']}/api/events/stream/Complaint-{complaint_id}?limit=1000")
        fetch("audit", f"{self.urls['audit']}/api/audit/trail/{complaint_id}?limit=100")
        fetch("notifications", f"{self.urls['notifications']}/api/notifications?complaintId={complaint_id}&limit=100")
        fetch("sagas", f"{self.urls['complaints']}/api/complaints/{complaint_id}/sagas")
        return found


# The complaints created last, read to tell when each view had caught up with the load.
LAST_COMPLAINTS = 100


def lags_of(found: dict, version: int) -> dict:
    """Lag samples (seconds) per view for one complaint, and what is missing."""
    commits: dict[str, float] = {}
    lags: dict[str, list[tuple[float, float]]] = {
        "event store": [],
        "audit trail": [],
        "notification created": [],
        "notification sent": [],
        "acknowledgement saga": [],
    }
    events = (found.get("events") or {}).get("events") or []
    for event in events:
        committed = instant(event["metadata"]["timestamp"])
        commits[event["eventId"]] = committed
        lags["event store"].append((committed, instant(event["storedAt"]) - committed))
    entries = (found.get("audit") or {}).get("entries") or []
    for entry in entries:
        committed = instant(entry["timestamp"])
        commits.setdefault(entry["eventId"], committed)
        lags["audit trail"].append((committed, instant(entry["recordedAt"]) - committed))
    for notification in (found.get("notifications") or {}).get("items") or []:
        committed = commits.get(notification["triggeringEventId"])
        if committed is None:
            continue
        lags["notification created"].append((committed, instant(notification["createdAt"]) - committed))
        if notification.get("sentAt"):
            lags["notification sent"].append((committed, instant(notification["sentAt"]) - committed))
    acknowledged = False
    for saga in found.get("sagas") or []:
        if saga.get("kind") != "ACKNOWLEDGEMENT" or saga.get("status") != "COMPLETED":
            continue
        committed = commits.get(saga["triggerEventId"])
        if committed is not None and saga.get("finishedAt"):
            lags["acknowledgement saga"].append((committed, instant(saga["finishedAt"]) - committed))
            acknowledged = True
    notifications = (found.get("notifications") or {}).get("items") or []
    missing = {
        "event store": max(0, version - len(events)),
        "audit trail": max(0, version - len(entries)),
        "acknowledgement saga": 0 if acknowledged else 1,
        "notification sent": 0 if any(str(n.get("step")).lower() == "acknowledgement" and n.get("sentAt")
                                      for n in notifications) else 1,
    }
    return {"lags": lags, "missing": missing, "errors": found.get("errors", [])}


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


# ---------------------------------------------------------------------------------------------
# The run


def run_k6(args, ids_file: Path, summary_file: Path, urls: dict[str, str]) -> int:
    env = dict(os.environ)
    env.update(
        RATE=str(args.rate),
        SECONDS=str(args.seconds),
        LIFECYCLE_SHARE=str(args.lifecycle_share),
        COMPLAINTS_URL=urls["complaints"],
        NOTIFICATIONS_URL=urls["notifications"],
        AUDIT_URL=urls["audit"],
        EVENTS_URL=urls["events"],
    )
    command = [
        args.k6, "run", "--quiet", "--no-usage-report", f"--console-output={ids_file}",
        f"--summary-export={summary_file}", str(ROOT / "k6" / "pipeline-load.js"),
    ]
    with open(summary_file.with_suffix(".log"), "w") as log:
        return subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT).returncode


def created_ids(ids_file: Path) -> list[tuple[str, int]]:
    created = []
    message = re.compile(r'msg="(.*)"')
    for line in ids_file.read_text().splitlines():
        match = message.search(line)
        text = match.group(1).encode().decode("unicode_escape") if match else line
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict) and "id" in record:
            created.append((record["id"], int(record.get("version") or 1)))
    return created


def create_latency(summary_file: Path) -> dict:
    try:
        metrics = json.loads(summary_file.read_text())["metrics"]
    except (OSError, ValueError, KeyError):
        return {}
    duration = metrics.get("http_req_duration{name:POST /api/complaints}") or {}
    failed = metrics.get("http_req_failed") or {}
    return {"p50": duration.get("med"), "p99": duration.get("p(99)"), "failed_rate": failed.get("value")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=100, help="creates per second")
    parser.add_argument("--seconds", type=int, default=60, help="how long the load lasts")
    parser.add_argument("--lifecycle-share", type=float, default=float(os.environ.get("LIFECYCLE_SHARE", 0.1)))
    parser.add_argument("--sample", type=int, default=int(os.environ.get("SAMPLE", 2000)),
                        help="complaints whose views are read (all of them if fewer)")
    parser.add_argument("--drain-timeout", type=float, default=float(os.environ.get("DRAIN_TIMEOUT", 300)))
    parser.add_argument("--view-timeout", type=float, default=60.0,
                        help="how long to wait for a sampled complaint's effects once the queues are empty")
    parser.add_argument("--smoke", action="store_true", help="exit 1 if a sampled complaint is missing from a view")
    parser.add_argument("--k6", default=os.environ.get("K6", str(ROOT / ".venv" / "bin" / "k6")))
    parser.add_argument("--out", default=os.environ.get("BENCH_DIR", str(ROOT / ".run" / "bench")))
    args = parser.parse_args()

    urls = {
        "complaints": os.environ.get("COMPLAINTS_URL", "http://127.0.0.1:3005").rstrip("/"),
        "notifications": os.environ.get("NOTIFICATIONS_URL", "http://127.0.0.1:3006").rstrip("/"),
        "audit": os.environ.get("AUDIT_URL", "http://127.0.0.1:3007").rstrip("/"),
        "events": os.environ.get("EVENTS_URL", "http://127.0.0.1:3008").rstrip("/"),
    }
    for name, url in urls.items():
        try:
            get_json(f"{url}/ready", timeout=5)
        except (urllib.error.URLError, OSError, ValueError) as error:
            say(f"{url}/ready does not answer ({error}): start the suite first (make up)")
            return 2
    vhost = os.environ.get("RABBITMQ_VHOST") or os.environ.get("RABBITMQ_URL", "amqp://x/%2f").rsplit("/", 1)[-1] or "%2f"
    management = Management(os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672"), vhost)
    groups = Groups({
        f"{name}-service" if name != "events" else "event-store-service": urllib.parse.urlsplit(url).port
        for name, url in {"complaint": urls["complaints"], "notification": urls["notifications"],
                          "audit": urls["audit"], "events": urls["events"]}.items()
    })

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    ids_file, summary_file = out / f"pipeline-{stamp}.ids", out / f"pipeline-{stamp}.k6.json"

    queues_before = management.queues()
    queue_names = sorted(queues_before)
    broker = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2f").rsplit("/", 1)[0]
    amqp_url = f"{broker}/{urllib.parse.quote(urllib.parse.unquote(vhost), safe='')}"
    backlog_before = work_backlog(queues_before)
    if backlog_before:
        say(f"the work queues already hold {backlog_before} messages: the figures include that backlog")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    schemas = suite_schemas()
    scans_before = table_scans(schemas)
    statements_before = statement_counters()
    cpu_before, machine_before = groups.snapshot(), machine_busy_ticks()
    written_before, stalled_before = groups.written(), stalled_us()
    children_before = os.times()
    say(f"{args.rate} creates/s for {args.seconds} s, {args.lifecycle_share:.0%} through the lifecycle (k6 log: {summary_file.with_suffix('.log')})")
    started = time.time()
    k6_status = run_k6(args, ids_file, summary_file, urls)
    load_end = time.time()
    children_after = os.times()
    # Connected now: an idle connection would miss its heartbeats during the load.
    waiting = Waiting(amqp_url)
    backlog_at_end = waiting.count(queue_names)
    backlog_after_5s = None
    drained_at = None
    quiet_since = None
    quiet_polls = 0
    while time.time() - load_end < args.drain_timeout:
        now = time.time()
        if backlog_after_5s is None and now >= load_end + 5:
            backlog_after_5s = waiting.count(queue_names)
        # Held unacknowledged included: the management API's counts.
        queues = management.queues()
        if queues and work_backlog(queues) == 0:
            quiet_since = quiet_since or now
            quiet_polls += 1
            if quiet_polls >= 3 and backlog_after_5s is not None:
                drained_at = quiet_since
                break
        else:
            quiet_since, quiet_polls = None, 0
        time.sleep(0.5)
    if backlog_after_5s is None:
        backlog_after_5s = waiting.count(queue_names)
    waiting.close()
    window_end = time.time()
    cpu_after, machine_after = groups.snapshot(), machine_busy_ticks()
    written_after, stalled_after = groups.written(), stalled_us()
    scans_after = table_scans(schemas)
    statements_after = statement_counters()
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    backlog_left = management.queues()

    created = created_ids(ids_file) if ids_file.exists() else []
    if not created:
        say(f"k6 created no complaint (exit {k6_status}); see {summary_file.with_suffix('.log')}")
        return 1
    sample = random.sample(created, min(args.sample, len(created)))
    views = Views(urls)
    say(f"{len(created)} complaints created; reading the views of {len(sample)}")

    def read(item):
        complaint_id, version = item
        return complaint_id, version, lags_of(views.complaint(complaint_id), version)

    results: dict[str, dict] = {}
    pending = sample
    deadline = time.time() + args.view_timeout
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        while pending:
            retry = []
            for complaint_id, version, result in pool.map(read, pending):
                results[complaint_id] = result
                if any(result["missing"].values()):
                    retry.append((complaint_id, version))
            if not retry or time.time() > deadline:
                break
            pending = retry
            time.sleep(2)

    # When each view had caught up: the last write, in that view, of the complaints created
    # last (their lags are kept out of the distributions above). The queue counts of the
    # management API are refreshed every few seconds (collect_statistics_interval), so they
    # may still show a backlog that the consumers have already taken.
    caught_up: dict[str, float] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for _, _, result in pool.map(read, created[-LAST_COMPLAINTS:]):
            for view, samples in result["lags"].items():
                for committed, lag in samples:
                    caught_up[view] = max(caught_up.get(view, float("-inf")), committed + lag - load_end)

    lags: dict[str, list[tuple[float, float]]] = {}
    missing: dict[str, int] = {}
    errors = []
    for result in results.values():
        for view, samples in result["lags"].items():
            lags.setdefault(view, []).extend(samples)
        for view, count in result["missing"].items():
            missing[view] = missing.get(view, 0) + count
        errors.extend(result["errors"])

    window = window_end - started
    report = {
        "measuredAt": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "rate": args.rate, "seconds": args.seconds, "lifecycleShare": args.lifecycle_share,
        "created": len(created), "sampled": len(sample), "k6Exit": k6_status,
        "achievedRate": len(created) / max(1e-9, load_end - started),
        "create": create_latency(summary_file),
        "loadAverage": {"before": load_before, "after": load_after},
        "lags": {
            view: {"p50": percentile([lag for _, lag in samples], 50),
                   "p99": percentile([lag for _, lag in samples], 99),
                   "max": max((lag for _, lag in samples), default=None), "n": len(samples)}
            for view, samples in lags.items()
        },
        "lagByMinute": {
            view: [percentile([lag for at, lag in samples if int((at - started) // 60) == minute], 99)
                   for minute in range(max(1, -(-args.seconds // 60)))]
            for view, samples in lags.items()
        },
        "missing": missing,
        "errors": errors[:20],
        "backlog": {"atLoadEnd": backlog_at_end, "5sAfter": backlog_after_5s, "left": backlog_left},
        "drainedAfterLoad": None if drained_at is None else drained_at - load_end,
        "caughtUpAfterLoad": caught_up,
        "cpuWindowSeconds": window,
        "cpuPerComplaintMs": {
            name: None if ticks is None else ticks / CLOCK_TICKS * 1000 / len(created)
            for name, ticks in used_between(cpu_before, cpu_after).items()
        },
        "writtenPerComplaintKb": {
            name: None if written is None else written / 1024 / len(created)
            for name, written in used_between(written_before, written_after).items()
        },
        "stalledShare": {
            resource: (stalled_after[resource] - stalled_before[resource]) / 1e6 / max(1e-9, window)
            for resource in stalled_after if resource in stalled_before
        },
        "loadGeneratorCpuPerComplaintMs": (
            (children_after.children_user + children_after.children_system
             - children_before.children_user - children_before.children_system) * 1000 / len(created)),
        "sequentialScans": {
            table: {"seqScans": after[0] - scans_before.get(table, (0, 0, 0))[0],
                    "rowsRead": after[1] - scans_before.get(table, (0, 0, 0))[1],
                    "indexScans": after[2] - scans_before.get(table, (0, 0, 0))[2]}
            for table, after in sorted(scans_after.items())
        },
        "autovacuum": (psql("SHOW autovacuum") or "unknown").strip(),
        "statements": statements_used(statements_before, statements_after, len(created)),
        "machineBusyCores": (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1])
        * os.cpu_count(),
    }
    markdown = render(report)
    print(markdown)
    (out / f"pipeline-{stamp}.md").write_text(markdown)
    (out / f"pipeline-{stamp}.json").write_text(json.dumps(report, indent=2))
    say(f"written to {out}/pipeline-{stamp}.md and .json")
    if args.smoke and (any(missing.values()) or errors):
        say(f"smoke: views are missing effects: {missing} {errors[:3]}")
        return 1
    return 0


def render(r: dict) -> str:
    lines = [
        f"### Pipeline: {r['rate']} creates/s for {r['seconds']} s ({r['measuredAt']})",
        "",
        f"- {r['created']} complaints created ({r['achievedRate']:.0f}/s achieved), "
        f"{r['lifecycleShare']:.0%} taken through the lifecycle; views read for {r['sampled']} of them.",
        f"- create p50 / p99: {ms((r['create'].get('p50') or 0) / 1000) if r['create'] else '–'} / "
        f"{ms((r['create'].get('p99') or 0) / 1000) if r['create'] else '–'}; "
        f"failed requests: {(r['create'].get('failed_rate') or 0):.2%}; k6 exit {r['k6Exit']}.",
        f"- load average before / after: {' '.join(r['loadAverage']['before'])} / {' '.join(r['loadAverage']['after'])}; "
        f"both cores busy on average {r['machineBusyCores']:.2f} of {os.cpu_count()} over the {r['cpuWindowSeconds']:.0f} s window "
        "(everything on the machine, other work included).",
        "",
        "| view (lag behind the commit) | p50 | p99 | max | samples | missing |",
        "|---|---|---|---|---|---|",
    ]
    for view, lag in r["lags"].items():
        lines.append(f"| {view} | {ms(lag['p50'])} | {ms(lag['p99'])} | {ms(lag['max'])} | {lag['n']} | "
                     f"{r['missing'].get(view, '')} |")
    if len(next(iter(r["lagByMinute"].values()), [])) > 1:
        lines += ["", "p99 lag by minute of the load (commit time):", ""]
        for view, by_minute in r["lagByMinute"].items():
            lines.append(f"- {view}: " + ", ".join(ms(v) for v in by_minute))
    drained = r["drainedAfterLoad"]
    lines += [
        "",
        f"Backlog (messages waiting in the services' queues, counted by the broker): "
        f"{work_backlog(r['backlog']['atLoadEnd'])} when the load stopped, "
        f"{work_backlog(r['backlog']['5sAfter'])} 5 s later. "
        + (f"The queues were empty, unacknowledged messages included, {drained:.0f} s after the load "
           "(management API, whose counts lag by up to 5 s)."
           if drained is not None else "The queues were NOT empty before the timeout."),
    ]
    if r.get("caughtUpAfterLoad"):
        lines.append(f"The last write of the last {LAST_COMPLAINTS} complaints' effects, after the load stopped "
                     "(negative: before it stopped): "
                     + ", ".join(f"{view} {seconds:+.1f} s" for view, seconds in r["caughtUpAfterLoad"].items()))
    busy = {q: n for q, n in r["backlog"]["5sAfter"].items() if n}
    parked = {q: n for q, n in r["backlog"]["left"].items() if n and is_parking(q)}
    if busy:
        lines.append("5 s after: " + ", ".join(f"`{q}` {n}" for q, n in sorted(busy.items())))
    if parked:
        lines.append("Left in retry/dead-letter queues: " + ", ".join(f"`{q}` {n}" for q, n in sorted(parked.items())))
    lines += ["", "| process | CPU ms per complaint | disk writes KB per complaint |", "|---|---|---|"]
    total, total_written = 0.0, 0.0
    written = r.get("writtenPerComplaintKb", {})
    for name, value in r["cpuPerComplaintMs"].items():
        if value is None:
            lines.append(f"| {name} | restarted during the run | |")
            continue
        total += value
        kb = written.get(name)
        total_written += kb or 0
        lines.append(f"| {name} | {value:.2f} | {'' if kb is None else f'{kb:.0f}'} |")
    lines.append(f"| **sum** | **{total:.2f}** | **{total_written:.0f}** |")
    lines.append(f"| (k6, the load generator) | {r['loadGeneratorCpuPerComplaintMs']:.2f} | |")
    stalled = r.get("stalledShare") or {}
    if stalled:
        lines += ["", "Waiting over the window (pressure stall information, the whole machine): "
                  + ", ".join(f"some task waited {'on the disk' if resource == 'io' else 'for a core'} "
                              f"{share:.0%} of the time" for resource, share in stalled.items()) + "."]
    # Scans of empty tables (migrations, singletons) cost nothing: only those that read rows.
    scanned = dict(sorted(((t, v) for t, v in r["sequentialScans"].items() if v["rowsRead"]),
                          key=lambda item: -item[1]["rowsRead"]))
    if r["sequentialScans"]:
        lines += ["", f"Sequential scans during the run (pg_stat_user_tables, the suite's schemas; PostgreSQL autovacuum {r['autovacuum']}): "
                  + (", ".join(f"`{t}` {v['seqScans']} reading {v['rowsRead']:,} rows" for t, v in scanned.items())
                     if scanned else "none.")]
    statements = r.get("statements")
    if statements:
        lines += ["", f"PostgreSQL (pg_stat_statements, the whole database): {statements['perComplaint']:.1f} statements and "
                  f"{statements['transactionsPerComplaint']:.1f} transactions per complaint, "
                  f"{statements['execMsPerComplaint']:.2f} ms of execution per complaint. Costliest:", "",
                  "| statement | calls per complaint | exec ms per complaint |", "|---|---|---|"]
        for top in statements["top"]:
            query = top["query"].replace("|", "\\|")
            lines.append(f"| `{query}` | {top['callsPerComplaint']:.2f} | {top['execMsPerComplaint']:.3f} |")
    if r["errors"]:
        lines += ["", "Errors reading the views: " + "; ".join(r["errors"][:5])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
