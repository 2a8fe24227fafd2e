#!/usr/bin/env python3
"""Compare compose/rabbitmq/definitions.json with the topology the services really declare.

The services declare their exchanges, queues (each with a DLQ and delay queues) and bindings
themselves (shared/src/messaging/topology.rs). compose/rabbitmq/definitions.json loads the same
topology at broker boot, so the management UI shows it before any service has started. To keep
the file honest it is never edited by hand: it is generated from a vhost where the four services
have run, and checked against such a vhost.

  check:     check_definitions.py --vhost test-abc        (exit 1 and a diff when they differ)
  generate:  check_definitions.py --vhost test-abc --write

The vhost comes from --vhost or RABBITMQ_VHOST; the management API from --management-url or
RABBITMQ_MANAGEMENT_URL (default http://guest:guest@127.0.0.1:15672). Nothing is started or
changed on the broker: one GET of /api/definitions/<vhost>.

Compared: exchanges (name, type, durable, auto_delete, internal, arguments), queues (name,
durable, auto_delete, arguments) and bindings (source, destination, destination type, routing
key, arguments). RabbitMQ's own objects (the default exchange, amq.*) and transient queues
(server-named, exclusive or auto-deleted ones) are left out. Users, vhosts and permissions
are the file's own (they are not part of what services declare) and are kept on --write.

Least privilege (issue 14): the file holds one user per service (no administrator tag) whose
permissions on "/" are the patterns of shared/src/messaging/permissions.rs, which a Rust test
(shared::messaging::permissions, the_compose_definitions_grant_what_the_table_says) keeps
equal; --static checks here that every service has such a user, that none may do everything
and that guest is absent. Locally, scripts/rabbitmq_users.py makes the same users.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = ROOT / "compose" / "rabbitmq" / "definitions.json"
SUITE_SERVICES = ["complaint-service", "notification-service", "audit-service", "event-store-service"]
# Written to a fresh file only; an existing file keeps its own users and permissions. The
# password is "complaints" (demo credentials; compose/README.md), hashed the way
# RabbitMQ stores it: base64(salt + sha256(salt + password)).
DEFAULT_USERS = [
    {
        "name": "complaints",
        "password_hash": "Wh18Pl8OxB+h1bCdr3jaeYCCigflKDGSmZAsqDCA9G+x6NJm",
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": ["administrator"],
        "limits": {},
    }
]
DEFAULT_PERMISSIONS = [
    {"user": "complaints", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
]


def fail(message: str) -> "NoReturn":  # type: ignore[name-defined]
    print(f"check_definitions: error: {message}", file=sys.stderr)
    sys.exit(1)


def management(management_url: str, method: str, path: str, body: dict | None = None):
    """One call of the management API; JSON answer (or None when empty)."""
    parsed = urllib.parse.urlsplit(management_url)
    user = urllib.parse.unquote(parsed.username or "guest")
    password = urllib.parse.unquote(parsed.password or "guest")
    host = parsed.hostname or "127.0.0.1"
    port = f":{parsed.port}" if parsed.port else ""
    base = f"{parsed.scheme or 'http'}://{host}{port}{parsed.path.rstrip('/')}"
    url = f"{base}/api/{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as error:
        if error.code == 404 and method == "GET":
            fail(f"{path}: not found on {base}")
        fail(f"{method} {url}: HTTP {error.code} {error.reason}: {error.read()[:300]!r}")
    except (urllib.error.URLError, OSError) as error:
        fail(f"cannot reach the RabbitMQ management API at {base}: {error}")


def vhost_path(vhost: str) -> str:
    return urllib.parse.quote(vhost, safe="")


def fetch_definitions(management_url: str, vhost: str) -> dict:
    return management(management_url, "GET", f"definitions/{vhost_path(vhost)}")


def import_round_trip(management_url: str, definitions: dict) -> dict:
    """Imports the file's topology into a scratch vhost (as RabbitMQ does at boot) and reads
    it back: proves the broker accepts the file and shows what it makes of it. The file's
    users and permissions are left out (the broker here is shared)."""
    scratch = f"definitions-import-{os.getpid()}-{int(time.time())}"
    user = urllib.parse.unquote(urllib.parse.urlsplit(management_url).username or "guest")
    body = {
        "vhosts": [{"name": scratch}],
        "permissions": [{"user": user, "vhost": scratch, "configure": ".*", "write": ".*", "read": ".*"}],
        **{kind: [dict(item, vhost=scratch) for item in definitions.get(kind, [])]
           for kind in ("queues", "exchanges", "bindings", "policies")},
    }
    try:
        management(management_url, "POST", "definitions", body)
        return fetch_definitions(management_url, scratch)
    finally:
        try:
            management(management_url, "DELETE", f"vhosts/{vhost_path(scratch)}")
        except SystemExit:
            pass


# ---- normalising: what a service declares, in a form that compares and diffs well ----------


def is_builtin_exchange(name: str) -> bool:
    return name == "" or name.startswith("amq.")


def is_transient_queue(queue: dict) -> bool:
    return (
        queue["name"].startswith("amq.gen-")
        or queue.get("exclusive", False)
        or (queue.get("auto_delete", False) and not queue.get("durable", True))
    )


def exchange_key(e: dict) -> str:
    return e["name"]


def queue_key(q: dict) -> str:
    return q["name"]


def binding_key(b: dict) -> str:
    args = json.dumps(b.get("arguments", {}), sort_keys=True)
    return f'{b["source"]} -> {b["destination_type"]} {b["destination"]} [{b["routing_key"]}] {args}'


def normalise(definitions: dict) -> dict[str, dict[str, dict]]:
    """{"exchange": {key: fields}, "queue": {...}, "binding": {...}} without vhost or noise."""
    exchanges = {
        exchange_key(e): {
            "name": e["name"],
            "type": e["type"],
            "durable": e.get("durable", True),
            "auto_delete": e.get("auto_delete", False),
            "internal": e.get("internal", False),
            "arguments": e.get("arguments", {}),
        }
        for e in definitions.get("exchanges", [])
        if not is_builtin_exchange(e["name"])
    }
    queues = {
        queue_key(q): {
            "name": q["name"],
            "durable": q.get("durable", True),
            "auto_delete": q.get("auto_delete", False),
            "arguments": q.get("arguments", {}),
        }
        for q in definitions.get("queues", [])
        if not is_transient_queue(q)
    }
    bindings = {
        binding_key(b): {
            "source": b["source"],
            "destination": b["destination"],
            "destination_type": b["destination_type"],
            "routing_key": b["routing_key"],
            "arguments": b.get("arguments", {}),
        }
        for b in definitions.get("bindings", [])
        if b["source"] != "" and b["destination"] in queues | exchanges
    }
    return {"exchange": exchanges, "queue": queues, "binding": bindings}


# ---- comparing --------------------------------------------------------------------------------


def diff(file_side: dict, live_side: dict) -> list[str]:
    lines: list[str] = []
    for kind in ("exchange", "queue", "binding"):
        ours, theirs = file_side[kind], live_side[kind]
        for key in sorted(theirs.keys() - ours.keys()):
            lines.append(f"+ {kind} {key}: declared by the services, missing from the file")
        for key in sorted(ours.keys() - theirs.keys()):
            lines.append(f"- {kind} {key}: in the file, not declared by the services")
        for key in sorted(ours.keys() & theirs.keys()):
            for field in sorted(ours[key].keys() | theirs[key].keys()):
                a, b = ours[key].get(field), theirs[key].get(field)
                if a != b and isinstance(a, dict) and isinstance(b, dict):
                    for arg in sorted(a.keys() | b.keys()):
                        if a.get(arg) != b.get(arg):
                            lines.append(
                                f"~ {kind} {key}: {field}.{arg} is {json.dumps(a.get(arg))} in the file, "
                                f"{json.dumps(b.get(arg))} on the broker"
                            )
                elif a != b:
                    lines.append(
                        f"~ {kind} {key}: {field} is {json.dumps(a, sort_keys=True)} in the file, "
                        f"{json.dumps(b, sort_keys=True)} on the broker"
                    )
    return lines


def owners(side: dict) -> set[str]:
    """The services that own a queue (queues are named `<service>.<purpose>`)."""
    return {name.split(".", 1)[0] for name in side["queue"] if name.split(".", 1)[0] in SUITE_SERVICES}


def check_services_ran(live: dict, expected: set[str], vhost: str) -> None:
    """A vhost where a service has not run would give a confusing diff: say so plainly."""
    if not live["exchange"]:
        fail(f"vhost {vhost!r} has no exchange at all: no service has run against it")
    missing = sorted(expected - owners(live))
    if missing:
        fail(
            f"vhost {vhost!r} has no queue of {', '.join(missing)}, which declares some: run every "
            "service against it first (each declares its topology at start)"
        )


# ---- generating -------------------------------------------------------------------------------


def render(live_defs: dict, live: dict, previous: dict | None) -> str:
    """The whole boot-time definitions file for vhost "/", sorted so regenerating is stable."""
    keep = previous or {}
    document = {
        "rabbit_version": live_defs.get("rabbit_version", ""),
        "rabbitmq_version": live_defs.get("rabbitmq_version", live_defs.get("rabbit_version", "")),
        "users": keep.get("users", DEFAULT_USERS),
        "vhosts": keep.get("vhosts", [{"name": "/", "limits": [], "metadata": {"description": "complaint suite", "tags": []}}]),
        "permissions": keep.get("permissions", DEFAULT_PERMISSIONS),
        "topic_permissions": keep.get("topic_permissions", []),
        "parameters": keep.get("parameters", []),
        "global_parameters": keep.get("global_parameters", []),
        "policies": keep.get("policies", []),
        "queues": [dict(q, vhost="/") for _, q in sorted(live["queue"].items())],
        "exchanges": [dict(e, vhost="/") for _, e in sorted(live["exchange"].items())],
        "bindings": [dict(b, vhost="/") for _, b in sorted(live["binding"].items())],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def check_file(definitions: dict) -> list[str]:
    """What RabbitMQ would refuse or the compose broker would miss, without a broker."""
    problems = []
    names = {u.get("name") for u in definitions.get("users", [])}
    if not names:
        problems.append("no users: with definitions loaded at boot RabbitMQ creates no default user")
    for p in definitions.get("permissions", []):
        if p.get("user") not in names:
            problems.append(f"permission for unknown user {p.get('user')!r}")
    vhosts = {v.get("name") for v in definitions.get("vhosts", [])}
    for kind in ("queues", "exchanges", "bindings"):
        for item in definitions.get(kind, []):
            if item.get("vhost") not in vhosts:
                problems.append(f"{kind[:-1]} {item.get('name') or binding_key(item)}: vhost {item.get('vhost')!r} is not declared")
    problems += check_least_privilege(definitions)
    declared = normalise(definitions)
    destinations = declared["queue"].keys() | declared["exchange"].keys()
    for key, b in declared["binding"].items():
        if b["source"] not in declared["exchange"]:
            problems.append(f"binding {key}: no exchange {b['source']!r}")
    for item in definitions.get("bindings", []):
        if item["destination"] not in destinations:
            problems.append(f"binding {binding_key(item)}: no {item['destination_type']} {item['destination']!r}")
    for q in declared["queue"].values():
        if q["name"].endswith(".dlq") or ".retry." in q["name"] or q["name"] == "events.unrouted":
            continue
        if f"{q['name']}.dlq" not in declared["queue"]:
            problems.append(f"queue {q['name']}: has no {q['name']}.dlq")
    return problems


def check_least_privilege(definitions: dict) -> list[str]:
    """Each service has a user of its own, which may not do everything; guest is not there."""
    problems = []
    users = {u.get("name"): u for u in definitions.get("users", [])}
    if "guest" in users:
        problems.append("user guest: no service may use it; leave it out of the definitions")
    for service in SUITE_SERVICES:
        user = users.get(service)
        if user is None:
            problems.append(f"no user {service}: every service connects as a user of its own")
            continue
        if user.get("tags"):
            problems.append(f"user {service}: tags {user['tags']} (a service needs none)")
        grants = [p for p in definitions.get("permissions", []) if p.get("user") == service]
        if not any(p.get("vhost") == "/" for p in grants):
            problems.append(f"user {service}: no permissions on vhost /")
        for p in grants:
            for kind in ("configure", "write", "read"):
                if p.get(kind) in (".*", "^.*$", ".+", "^.+$"):
                    problems.append(f"user {service}: {kind} pattern {p.get(kind)!r} allows every resource")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vhost", default=os.environ.get("RABBITMQ_VHOST"),
                        help="vhost where the four services have run (env RABBITMQ_VHOST)")
    parser.add_argument("--management-url",
                        default=os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672"),
                        help="management API base URL with credentials (env RABBITMQ_MANAGEMENT_URL)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="definitions file (default: %(default)s)")
    parser.add_argument("--services", default=os.environ.get("DEFINITIONS_SERVICES", ""),
                        help="comma-separated services whose queues must exist in the vhost, besides those "
                             "owning queues in the file (env DEFINITIONS_SERVICES)")
    parser.add_argument("--write", action="store_true", help="regenerate the file from the vhost instead of checking")
    parser.add_argument("--static", action="store_true", help="check the file alone (no broker needed)")
    parser.add_argument("--no-import", action="store_true",
                        help="skip importing the file into a scratch vhost (done by default, as a boot would)")
    args = parser.parse_args()

    if args.static:
        try:
            problems = check_file(json.loads(args.file.read_text()))
        except (OSError, json.JSONDecodeError) as error:
            fail(f"cannot read {args.file}: {error}")
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        if problems:
            fail(f"{args.file.name}: {len(problems)} problems")
        print(f"check_definitions: ok: {args.file.name} is self-consistent")
        return 0

    if not args.vhost:
        fail("which vhost? give --vhost or set RABBITMQ_VHOST (a vhost where the four services have run)")
    services = {s.strip() for s in args.services.split(",") if s.strip()}

    previous = None
    if args.file.exists():
        try:
            previous = json.loads(args.file.read_text())
        except json.JSONDecodeError as error:
            if not args.write:
                fail(f"{args.file} is not valid JSON: {error}")

    live_defs = fetch_definitions(args.management_url, args.vhost)
    live = normalise(live_defs)
    check_services_ran(live, services | (owners(normalise(previous)) if previous else set()), args.vhost)

    if args.write:
        args.file.parent.mkdir(parents=True, exist_ok=True)
        args.file.write_text(render(live_defs, live, previous))
        counts = ", ".join(f"{len(live[k])} {k}s" for k in ("exchange", "queue", "binding"))
        print(f"check_definitions: wrote {args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file} "
              f"from vhost {args.vhost!r} ({counts})")
        without = [s for s in SUITE_SERVICES if s not in owners(live)]
        if without:
            print(f"check_definitions: note: no queue of {', '.join(without)} in that vhost "
                  "(a service that consumes nothing declares only the exchanges)")
        return 0

    if previous is None:
        fail(f"{args.file} does not exist; generate it with: {Path(sys.argv[0]).name} --vhost {args.vhost} --write")
    lines = diff(normalise(previous), live)
    if not args.no_import:
        imported = normalise(import_round_trip(args.management_url, previous))
        lines += [f"{line} (after importing the file into a scratch vhost)"
                  for line in diff(normalise(previous), imported)]
    if lines:
        print(f"check_definitions: FAILED: {args.file.name} differs from what the services declared "
              f"on vhost {args.vhost!r} ({len(lines)} differences):", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
        print(f"  regenerate with: scripts/ops/check_definitions.py --vhost {args.vhost} --write",
              file=sys.stderr)
        return 1
    counts = ", ".join(f"{len(live[k])} {k}s" for k in ("exchange", "queue", "binding"))
    imported = "" if args.no_import else "; RabbitMQ imports it unchanged"
    print(f"check_definitions: ok: {args.file.name} equals vhost {args.vhost!r} ({counts}){imported}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
