#!/usr/bin/env python3
"""Fault trials against a running suite (issue 10): for each fault, paced creates and lifecycle
commands through the REST API, the fault injected a while in, then every view checked for lost
and duplicated effects, client errors, dead-letter growth and recovery time.

  scripts/faults/run.py                      the eight faults against `make up` (ports 3005-3008)
  scripts/faults/run.py --suite-env FILE     against the debug suite of scripts/ops/dev-suite.sh
  scripts/faults/run.py --short              what CI runs: the faults local to the suite, low rate
  scripts/faults/run.py --faults a,b --rate 30 --duration 40 --inject-at 10

Exits 1 if any trial lost or duplicated an effect or grew a dead-letter queue, 2 if a fault
could not be injected. RELIABILITY.md says what is measured and shows a run.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
import zlib
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faults  # noqa: E402
import report  # noqa: E402
from canary import Canary  # noqa: E402
from deadletters import dead_letter_counts  # noqa: E402
from suite import discover, load_run_env  # noqa: E402
from views import Findings, Mails, check_all, verify_audit_chain  # noqa: E402
from workload import Workload  # noqa: E402

MAX_SETTLE_SECONDS = 900
SHORT = ["rabbitmq-connections-closed", "notification-service-killed", "duplicate-events"]


def main() -> int:
    args = parse_args()
    load_run_env()
    suite = discover(args.suite_env)
    chosen = [faults.BY_NAME[n] for n in args.faults.split(",")] if args.faults else (
        [faults.BY_NAME[n] for n in SHORT] if args.short else faults.ALL)
    if args.local_only:
        chosen = [f for f in chosen if f.local]
    print(f"fault suite: {suite.kind} suite, complaints at {suite.complaints}, vhost {suite.vhost}; "
          f"{args.rate:g} creates/s for {args.duration:g} s, fault at {args.inject_at:g} s", flush=True)
    mails = Mails(suite.mail_file)
    if mails.refresh() is None:
        print(f"fault suite: no {suite.mail_file} yet; while there is none (mails sent by SMTP), the mails view is not checked")
    results = []
    for fault in chosen:
        print(f"\n== {fault.name}: {fault.description}", flush=True)
        result = run_trial(suite, fault, args, mails)
        print(report.trial(result), flush=True)
        results.append(result)
    print("\n" + report.summary(results))
    if any(r.injection_error for r in results):
        return 2
    return 1 if any(r.failed for r in results) else 0


def run_trial(suite, fault, args, mails) -> "report.Trial":
    dlq_before = dead_letter_counts(suite)
    workload = Workload(suite.complaints, args.rate, args.duration, args.lifecycle_share, seed=zlib.crc32(fault.name.encode()))
    trial = report.Trial(fault)
    load = threading.Thread(target=workload.run, name="workload")
    started = time.monotonic()
    load.start()
    time.sleep(args.inject_at)

    canary = Canary(suite, mails)
    trial.injected_at = time.monotonic() - started
    began = time.time()
    try:
        trial.injection = fault.inject(suite, workload.ledger)
    except Exception as error:
        trial.injection_error = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    trial.repaired_after = time.monotonic() - started - trial.injected_at
    window = (began, time.time()) if fault.cuts_mail_commit else None
    canary.start()
    load.join()
    trial.recovery = canary.wait(args.recovery_timeout)
    trial.recovery_waited_on = canary.waiting_on

    complaints = list(workload.ledger.complaints.values())
    trial.complaints = len(complaints)
    trial.commands = dict(workload.ledger.commands)
    trial.client_errors = dict(workload.ledger.errors)
    trial.findings, trial.settled_after, trial.check_rounds = settle(suite, complaints, args.settle, mails, window)
    trial.audit_chain = verify_audit_chain(suite)
    dlq_after = dead_letter_counts(suite)
    trial.dead_letter_growth = {q: n - dlq_before.get(q, 0) for q, n in dlq_after.items() if n > dlq_before.get(q, 0)}
    return trial


def settle(suite, complaints, stall: float, mails, fault_window) -> tuple[Findings, float, int]:
    """Checks every complaint, then again only those still missing something, as long as the
    views make progress: what is still missing after STALL seconds without progress is lost
    (a slow pipeline is not a lossy one; a stuck one is). FAULT_WINDOW: see views.check_one."""
    started = last_progress = time.monotonic()
    by_id = {c.id: c for c in complaints}
    latest = check_all(suite, complaints, mails, fault_window)
    rounds = 1
    waiting = [cid for cid, f in latest.items() if f.any_lost]
    while waiting and time.monotonic() - last_progress < stall and time.monotonic() - started < MAX_SETTLE_SECONDS:
        time.sleep(2)
        latest.update(check_all(suite, [by_id[cid] for cid in waiting], mails, fault_window))
        rounds += 1
        still = [cid for cid in waiting if latest[cid].any_lost]
        if len(still) < len(waiting):
            last_progress = time.monotonic()
        waiting = still
    total = Findings()
    for found in latest.values():
        total.add(found)
    return total, time.monotonic() - started, rounds


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite-env", help="env file of scripts/ops/dev-suite.sh (default: $OPS_SUITE_DIR/env if it exists, else make up)")
    parser.add_argument("--short", action="store_true", help="CI: forced close, one consumer killed, duplicates; 10/s for 20 s")
    parser.add_argument("--faults", help="comma-separated: " + ", ".join(faults.BY_NAME))
    parser.add_argument("--local-only", action="store_true", help="skip the faults that stop a shared server")
    parser.add_argument("--rate", type=float, help="creates per second (default 30, short 10)")
    parser.add_argument("--duration", type=float, help="seconds of load per trial (default 40, short 20)")
    parser.add_argument("--inject-at", type=float, help="seconds into the load (default 10, short 6)")
    parser.add_argument("--lifecycle-share", type=float, default=0.4, help="share of complaints taken through assign..close")
    parser.add_argument("--recovery-timeout", type=float, default=300,
                        help="seconds after the load the canary may take before the trial counts as not recovered")
    parser.add_argument("--settle", type=float, default=60,
                        help="seconds without progress after which what a view still misses counts as lost")
    args = parser.parse_args()
    defaults = (10, 20, 6) if args.short else (30, 40, 10)
    args.rate = args.rate or defaults[0]
    args.duration = args.duration or defaults[1]
    args.inject_at = args.inject_at if args.inject_at is not None else defaults[2]
    return args


if __name__ == "__main__":
    sys.exit(main())
