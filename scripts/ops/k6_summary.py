#!/usr/bin/env python3
"""Markdown rows out of k6 --summary-export files (used by scripts/ops/bench.sh).

  k6_summary.py SCRIPT=SUMMARY.json [...]   prints one table: per script, its whole-run
  request rate and error rate, then p50/p95/p99 of every request group a threshold names
  and of the script's own trends (propagation, saga outcome times), with failed thresholds.
"""

from __future__ import annotations

import json
import re
import sys

HEADER = (
    "| script | measure | p50 | p95 | p99 | count | req/s (whole run) | error rate | thresholds |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---|"
)
# Trends that are k6's own timing breakdowns: not worth a row each.
SKIP = re.compile(r"^(http_req_(blocked|connecting|tls_handshaking|sending|waiting|receiving)|iteration_duration|group_duration)")


def ms(value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def rows(script: str, summary: dict) -> list[str]:
    metrics = summary["metrics"]
    req_rate = metrics.get("http_reqs", {}).get("rate", 0.0)
    failed = metrics.get("http_req_failed", {})
    error_rate = failed.get("value", 0.0)
    crossed = [f"{name}: {t}" for name, m in metrics.items() for t, bad in (m.get("thresholds") or {}).items() if bad]
    verdict = "all passed" if not crossed else "FAILED " + "; ".join(crossed)
    out = []
    for name in sorted(metrics):
        m = metrics[name]
        if "med" not in m or SKIP.match(name) or "expected_response:true" in name:
            continue
        if name == "http_req_duration" or name.startswith("http_req_duration{"):
            tag = name[len("http_req_duration{name:"):-1] if "{name:" in name else ""
            measure = f"latency: {tag}" if tag else "latency, all requests"
        else:
            measure = name
        out.append(
            f"| {script} | {measure} | {ms(m.get('med'))} | {ms(m.get('p(95)'))} | {ms(m.get('p(99)'))} "
            f"| {m.get('count', '–')} | {req_rate:.1f} | {error_rate:.2%} | {verdict if not out else ''} |"
        )
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print(HEADER)
    for item in argv:
        script, _, path = item.partition("=")
        try:
            summary = json.load(open(path))
        except (OSError, json.JSONDecodeError) as error:
            print(f"| {script} | no summary ({error}) | | | | | | | |")
            continue
        for row in rows(script, summary):
            print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
