"""The suite under test: where its four services answer, which vhost they use, where their
mails go, and how one of them is started again after it was killed.

Two kinds are known:
- `make up` (scripts/up.sh): ports 3005-3008, the vhost of RABBITMQ_URL, pids in .run/pids,
  mails in .run/mail; a service is restarted with `scripts/up.sh --service NAME`;
- the debug suite of scripts/ops/dev-suite.sh: URLs, vhost and ids in its env file
  ($OPS_SUITE_DIR/env), pids and mails beside it; restarted with `dev-suite.sh relaunch NAME`.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from client import Management

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("complaint-service", "notification-service", "audit-service", "event-store-service")
URL_VARS = {
    "complaint-service": "COMPLAINTS_URL",
    "notification-service": "NOTIFICATIONS_URL",
    "audit-service": "AUDIT_URL",
    "event-store-service": "EVENTS_URL",
}
UP_PORTS = {"complaint-service": 3005, "notification-service": 3006, "audit-service": 3007,
            "event-store-service": 3008}


@dataclass
class Suite:
    kind: str  # "up" or "dev"
    urls: dict[str, str]
    vhost: str
    mail_file: Path
    pid_dir: Path
    management: Management

    @property
    def complaints(self) -> str:
        return self.urls["complaint-service"]

    @property
    def notifications(self) -> str:
        return self.urls["notification-service"]

    @property
    def audit(self) -> str:
        return self.urls["audit-service"]

    @property
    def events(self) -> str:
        return self.urls["event-store-service"]

    def pid(self, service: str) -> int:
        """The running service's pid, checked against its command line (pids get reused)."""
        pid = int((self.pid_dir / f"{service}.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if service not in cmdline:
            raise RuntimeError(f"pid {pid} of {service} runs something else: {cmdline}")
        return pid

    def relaunch(self, service: str) -> None:
        """Start SERVICE again on its port, vhost and schemas; returns once /ready says 200."""
        if self.kind == "dev":
            command = ["bash", str(ROOT / "scripts/ops/dev-suite.sh"), "relaunch", service]
        else:
            # Through bash: the Makefile runs the scripts that way, and up.sh is not executable.
            command = ["bash", str(ROOT / "scripts/up.sh"), "--service", service]
        done = subprocess.run(command, capture_output=True, text=True, env=self._env())
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")

    def _env(self) -> dict:
        env = dict(os.environ)
        if self.kind == "dev":
            env["OPS_SUITE_DIR"] = str(self.pid_dir)
        return env


def load_run_env() -> None:
    """The connection settings of .run/env (scripts/infra-up.sh), where the caller set none:
    what the caller exported wins, as with scripts/lib.sh's load_env (private servers, say)."""
    path = ROOT / ".run" / "env"
    if path.exists():
        for name, value in _read_exports(path).items():
            os.environ.setdefault(name, value)


def discover(suite_env: str | None) -> Suite:
    """The debug suite if an env file is named (or $OPS_SUITE_DIR/env exists), else `make up`."""
    management = Management(os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672"))
    if suite_env is None and os.environ.get("OPS_SUITE_DIR"):
        candidate = Path(os.environ["OPS_SUITE_DIR"]) / "env"
        suite_env = str(candidate) if candidate.exists() else None
    if suite_env:
        path = Path(suite_env)
        values = _read_exports(path)
        return Suite(
            kind="dev",
            urls={svc: values[var] for svc, var in URL_VARS.items()},
            vhost=values["RABBITMQ_VHOST"],
            mail_file=path.parent / "mail" / "notifications.jsonl",
            pid_dir=path.parent,
            management=management,
        )
    amqp = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(amqp).path[1:]) or "/"
    mail_dir = Path(os.environ.get("MAIL_DIR", ROOT / ".run" / "mail"))
    return Suite(
        kind="up",
        urls={svc: f"http://127.0.0.1:{port}" for svc, port in UP_PORTS.items()},
        vhost=vhost,
        mail_file=mail_dir / "notifications.jsonl",
        pid_dir=ROOT / ".run" / "pids",
        management=management,
    )


def _read_exports(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"export (\w+)='(.*)'$", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values
