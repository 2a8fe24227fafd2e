#!/usr/bin/env python3
"""One RabbitMQ user per service, on a local broker: the local counterpart of the users and
permissions compose/rabbitmq/definitions.json loads at boot (issue 14, least privilege).

  prepare:  rabbitmq_users.py [--vhost /]          users, their permissions on the vhost (by
                                                   default RABBITMQ_URL's), and the exchanges
                                                   of the definitions file
  URL:      rabbitmq_users.py --url-for audit-service [--vhost test-abc]
                                                   the AMQP URL that service connects with

The users and their permission patterns come from definitions.json (every user without the
administrator tag); a Rust test (shared::messaging::permissions) keeps the file equal to the
table in shared/src/messaging/permissions.rs. Locally each user gets a generated password,
kept in .run/rabbitmq/<user>.password (mode 600, never committed; RABBITMQ_SECRETS_DIR
elsewhere); an existing file is reused,
so running this again changes nothing. The broker's own users (guest, the administrator) are
left alone.

Declaring the exchanges (and the events.unrouted queue they send unroutable events to) is what
the definitions do at boot in compose: a service declares only the exchanges it owns and checks
that the others exist (shared::messaging::Topology::declare_as), so a fresh vhost needs them.

Settings: RABBITMQ_MANAGEMENT_URL (management API with an administrator's credentials, default
http://guest:guest@127.0.0.1:15672) and RABBITMQ_URL (the broker's AMQP address; its user and
vhost are replaced).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "compose" / "rabbitmq" / "definitions.json"
SECRETS = Path(os.environ.get("RABBITMQ_SECRETS_DIR", ROOT / ".run" / "rabbitmq"))
UNROUTED = "events.unrouted"


def fail(message: str) -> "NoReturn":  # type: ignore[name-defined]
    print(f"rabbitmq_users: error: {message}", file=sys.stderr)
    sys.exit(1)


def management(base_url: str, method: str, path: str, body: dict | None = None) -> None:
    parsed = urllib.parse.urlsplit(base_url)
    user = urllib.parse.unquote(parsed.username or "guest")
    password = urllib.parse.unquote(parsed.password or "guest")
    port = f":{parsed.port}" if parsed.port else ""
    url = f"{parsed.scheme}://{parsed.hostname}{port}{parsed.path.rstrip('/')}/api/{path}"
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method=method)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30):
            pass
    except urllib.error.HTTPError as error:
        fail(f"{method} /api/{path}: HTTP {error.code}: {error.read()[:300]!r}")
    except (urllib.error.URLError, OSError) as error:
        fail(f"cannot reach the RabbitMQ management API at {parsed.hostname}{port}: {error}")


def service_users(definitions: dict) -> dict[str, dict]:
    """{user: permissions on "/"} for every user without the administrator tag."""
    admins = {u["name"] for u in definitions["users"] if "administrator" in u.get("tags", [])}
    return {
        p["user"]: {k: p[k] for k in ("configure", "write", "read")}
        for p in definitions["permissions"]
        if p["vhost"] == "/" and p["user"] not in admins
    }


def password(secrets_dir: Path, user: str) -> str:
    """The user's local password, generated on first use."""
    path = secrets_dir / f"{user}.password"
    if path.exists():
        return path.read_text().strip()
    secrets_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def prepare(definitions: dict, management_url: str, vhost: str, secrets_dir: Path) -> None:
    for user, permissions in service_users(definitions).items():
        management(management_url, "PUT", f"users/{quote(user)}",
                   {"password": password(secrets_dir, user), "tags": ""})
        management(management_url, "PUT", f"permissions/{quote(vhost)}/{quote(user)}", permissions)
    v = quote(vhost)
    # The alternate exchange first: the others name it.
    exchanges = sorted(definitions["exchanges"], key=lambda e: e["name"] != UNROUTED)
    for e in exchanges:
        management(management_url, "PUT", f"exchanges/{v}/{quote(e['name'])}", {
            "type": e["type"], "durable": e["durable"], "auto_delete": e["auto_delete"],
            "internal": e["internal"], "arguments": e["arguments"]})
    for q in (q for q in definitions["queues"] if q["name"] == UNROUTED):
        management(management_url, "PUT", f"queues/{v}/{quote(q['name'])}",
                   {"durable": q["durable"], "auto_delete": q["auto_delete"], "arguments": q["arguments"]})
    for b in (b for b in definitions["bindings"] if b["source"] == UNROUTED):
        management(management_url, "POST", f"bindings/{v}/e/{quote(b['source'])}/q/{quote(b['destination'])}",
                   {"routing_key": b["routing_key"], "arguments": b["arguments"]})


def vhost_of(amqp_url: str) -> str:
    """The vhost of an AMQP URL ("/" when it names none)."""
    path = urllib.parse.urlsplit(amqp_url).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def url_for(definitions: dict, amqp_url: str, vhost: str | None, user: str, secrets_dir: Path) -> str:
    if user not in service_users(definitions):
        fail(f"{user!r} is not a broker user of the suite (see {DEFINITIONS.relative_to(ROOT)})")
    parsed = urllib.parse.urlsplit(amqp_url)
    port = f":{parsed.port}" if parsed.port else ""
    path = "/" + quote(vhost) if vhost is not None else parsed.path
    secret = quote(password(secrets_dir, user))
    return f"{parsed.scheme}://{quote(user)}:{secret}@{parsed.hostname}{port}{path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vhost", help="the vhost (default: RABBITMQ_URL's)")
    parser.add_argument("--url-for", metavar="USER", help="print USER's AMQP URL instead of preparing")
    parser.add_argument("--secrets-dir", type=Path, default=SECRETS, help="default: %(default)s")
    parser.add_argument("--definitions", type=Path, default=DEFINITIONS, help="default: %(default)s")
    args = parser.parse_args()
    definitions = json.loads(args.definitions.read_text())
    amqp_url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
    if args.url_for:
        print(url_for(definitions, amqp_url, args.vhost, args.url_for, args.secrets_dir))
        return 0
    vhost = args.vhost if args.vhost is not None else vhost_of(amqp_url)
    management_url = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
    prepare(definitions, management_url, vhost, args.secrets_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
