#!/usr/bin/env python3
"""Run the real Prometheus against running services and find every metric the rules and
dashboards use.

1. Writes a temporary config from compose/prometheus/prometheus.yml: the same jobs (same
   metrics paths), targets pointed at the given local URLs, a 1 s scrape and evaluation
   interval, and compose/prometheus/alerts.yml as its rule file.
2. Starts `prometheus` (Debian package) on a free port with a temporary data directory.
3. Waits until every target has been scraped and is up, then a few more scrapes.
4. Fails unless every metric name read by alerts.yml and compose/grafana/dashboards/*.json is
   in /api/v1/label/__name__/values, and every rule evaluates without error.

Metrics that only appear after traffic must have been generated first (check.sh runs the k6
smoke before this). A few counters only exist after a failure (a lost broker connection, say);
those listed in FAILURE_ONLY are accepted when absent if the Rust sources record them, with a
warning. --provoke-dead-letter QUEUE first publishes one undecodable message to QUEUE (through
the management API, on RABBITMQ_VHOST) so the dead-letter path and its metrics are real.

Targets (env or flags): COMPLAINTS_URL, NOTIFICATIONS_URL, AUDIT_URL, EVENTS_URL (default
http://127.0.0.1:3005 … 3008), RABBITMQ_PROMETHEUS_URL (default http://127.0.0.1:15692),
KONG_STATUS_URL (Kong's job is left out when unset: Kong does not run here).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import promql  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover
    print("check_prometheus_metrics: error: PyYAML is missing (pip install -r scripts/ops/requirements.txt)",
          file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_PROMETHEUS = ROOT / "compose" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "compose" / "prometheus" / "alerts.yml"
DASHBOARDS = ROOT / "compose" / "grafana" / "dashboards"

# compose job -> (environment variable with the base URL, default).
JOB_TARGETS = {
    "complaint-service": ("COMPLAINTS_URL", "http://127.0.0.1:3005"),
    "notification-service": ("NOTIFICATIONS_URL", "http://127.0.0.1:3006"),
    "audit-service": ("AUDIT_URL", "http://127.0.0.1:3007"),
    "event-store-service": ("EVENTS_URL", "http://127.0.0.1:3008"),
    "rabbitmq": ("RABBITMQ_PROMETHEUS_URL", "http://127.0.0.1:15692"),
    "kong": ("KONG_STATUS_URL", None),
}

# Counters that only exist once something has gone wrong. Absent ones are accepted (with a
# warning) when the Rust sources record them under that exact name.
FAILURE_ONLY = {
    "messages_dead_lettered_total": "a message was dead-lettered",
    "rabbitmq_connection_losses_total": "a service lost its broker connection",
    "saga_compensations_total": "a saga was compensated",
    "notifications_failed_total": "a notification failed",
    "notifications_retried_total": "a delivery failed transiently and was retried",
    "audit_verification_failures_total": "the audit chain was found broken",
}


def say(message: str) -> None:
    print(f"check_prometheus_metrics: {message}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def host_port(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    return f"{parsed.hostname}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"


def temp_config(targets: dict[str, str], self_port: int, rules: Path) -> dict:
    compose = yaml.safe_load(COMPOSE_PROMETHEUS.read_text())
    jobs = []
    for job in compose["scrape_configs"]:
        name = job["job_name"]
        if name == "prometheus":
            url = f"http://127.0.0.1:{self_port}"
        elif name in targets:
            url = targets[name]
        elif name in JOB_TARGETS and JOB_TARGETS[name][1] is None:
            say(f"job {name}: no target given (set {JOB_TARGETS[name][0]}); left out")
            continue
        else:
            raise SystemExit(f"check_prometheus_metrics: error: job {name} of {COMPOSE_PROMETHEUS.name} has no local target")
        job = dict(job)
        job["static_configs"] = [{"targets": [host_port(url)]}]
        if "scrape_timeout" in job:
            # A job compose gives a timeout of its own is a slow one: RabbitMQ's per-object
            # endpoint, whose size grows with every queue of every vhost (a test run leaves
            # hundreds). It keeps a long timeout here too, or the check fails on a busy broker.
            job["scrape_interval"] = "10s"
            job["scrape_timeout"] = "9s"
        else:
            job["scrape_interval"] = "1s"
            job["scrape_timeout"] = "900ms"
        if url.startswith("https"):
            job["scheme"] = "https"
        jobs.append(job)
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": jobs,
    }


def wait_ready(base: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"check_prometheus_metrics: error: prometheus exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit("check_prometheus_metrics: error: prometheus did not become ready in 30 s")


def wait_scraped(base: str, jobs: list[str], seconds: float = 30) -> list[str]:
    """Waits until every job has a successful scrape; returns the problems left at the deadline."""
    deadline = time.monotonic() + seconds
    problems: list[str] = []
    while time.monotonic() < deadline:
        targets = get_json(f"{base}/api/v1/targets")["data"]["activeTargets"]
        by_job = {t["labels"]["job"]: t for t in targets}
        problems = []
        for job in jobs:
            target = by_job.get(job)
            if target is None:
                problems.append(f"job {job}: no target yet")
            elif target["health"] != "up":
                problems.append(f"job {job} ({target['scrapeUrl']}): {target['health']} {target.get('lastError', '')}".rstrip())
        if not problems:
            return []
        time.sleep(0.5)
    return problems


def provoke_dead_letter(queue: str) -> None:
    """One undecodable message straight into a work queue, through the default exchange."""
    vhost = os.environ.get("RABBITMQ_VHOST")
    if not vhost:
        raise SystemExit("check_prometheus_metrics: error: --provoke-dead-letter needs RABBITMQ_VHOST")
    management = urllib.parse.urlsplit(os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672"))
    base = f"{management.scheme}://{management.hostname}:{management.port or 15672}"
    url = f"{base}/api/exchanges/{urllib.parse.quote(vhost, safe='')}/amq.default/publish"
    body = json.dumps({
        "properties": {"content_type": "application/json", "delivery_mode": 2,
                       "message_id": "check-prometheus-metrics-undecodable"},
        "routing_key": queue,
        "payload": "this is not an event envelope (sent by scripts/ops/check_prometheus_metrics.py)",
        "payload_encoding": "string",
    }).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"content-type": "application/json"})
    token = base64.b64encode(f"{urllib.parse.unquote(management.username or 'guest')}:"
                             f"{urllib.parse.unquote(management.password or 'guest')}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        routed = json.load(response).get("routed")
    if not routed:
        raise SystemExit(f"check_prometheus_metrics: error: queue {queue!r} does not exist in vhost {vhost!r}")
    say(f"published one undecodable message to {queue} (vhost {vhost}); it must reach {queue}.dlq")


def recorded_in_sources(name: str) -> bool:
    pattern = re.compile(r'"' + re.escape(name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")) + r'"')
    for path in ROOT.glob("*/src/**/*.rs"):
        if "target" in path.parts:
            continue
        if pattern.search(path.read_text(errors="replace")):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    parser.add_argument("--target", action="append", default=[], metavar="JOB=URL",
                        help="base URL of a job's target; overrides the environment")
    parser.add_argument("--provoke-dead-letter", metavar="QUEUE",
                        help="first publish an undecodable message to this work queue (needs RABBITMQ_VHOST)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of scraping after all targets are up")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (config, data, log)")
    args = parser.parse_args()

    if not Path(args.prometheus).exists():
        say(f"error: no prometheus binary at {args.prometheus} (apt-get install prometheus)")
        return 2
    targets = {job: os.environ.get(var) or default for job, (var, default) in JOB_TARGETS.items()}
    targets = {job: url for job, url in targets.items() if url}
    for item in args.target:
        job, _, url = item.partition("=")
        targets[job] = url

    used = promql.used_metrics(ALERTS, DASHBOARDS)
    if args.provoke_dead_letter:
        provoke_dead_letter(args.provoke_dead_letter)

    workdir = Path(tempfile.mkdtemp(prefix="check-prometheus-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rules = workdir / "alerts.yml"
    shutil.copy(ALERTS, rules)
    config = temp_config(targets, port, rules)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    log = workdir / "prometheus.log"
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    say(f"starting prometheus on {base} scraping {', '.join(f'{j}={targets.get(j, base)}' for j in jobs)}")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [args.prometheus, f"--config.file={workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--storage.tsdb.retention.time=1h", "--log.level=warn"],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(base, process, log)
        down = wait_scraped(base, jobs)
        if down:
            say("FAILED: targets not scraped:")
            for problem in down:
                print(f"  - {problem}", file=sys.stderr)
            return 1
        time.sleep(args.settle)
        present = set(get_json(f"{base}/api/v1/label/__name__/values")["data"])
        groups = get_json(f"{base}/api/v1/rules")["data"]["groups"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"kept {workdir}")

    problems, warnings = [], []
    for name in sorted(used):
        if name in present:
            continue
        base_name = re.sub(r"_(bucket|sum|count)$", "", name)
        if base_name in FAILURE_ONLY and recorded_in_sources(base_name):
            warnings.append(f"{name}: not exposed yet (only after {FAILURE_ONLY[base_name]}); recorded in the sources")
            continue
        where = "; ".join(sorted(used[name])[:3])
        problems.append(f"{name}: not exposed by any target (used in {where})")
    for group in groups:
        for rule in group["rules"]:
            if rule.get("health") == "err":
                problems.append(f"rule {rule['name']}: evaluation error: {rule.get('lastError')}")

    for warning in warnings:
        say(f"warning: {warning}")
    if problems:
        say(f"FAILED ({len(problems)} problems):")
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    n_rules = sum(len(g["rules"]) for g in groups)
    print(f"check_prometheus_metrics: ok: all {len(used)} metrics used by {ALERTS.name} and "
          f"{len(list(DASHBOARDS.glob('*.json')))} dashboards are exposed ({len(warnings)} failure-only), "
          f"{n_rules} rules evaluate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
