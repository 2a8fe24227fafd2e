#!/usr/bin/env bash
# Runs the k6 load suite against the local services (started by `make up`) and writes the
# summary table to BENCHMARKS.k6.md (merged into BENCHMARKS.md by hand).
#
#   scripts/ops/bench.sh                       all three load scripts, default sizes
#   scripts/ops/bench.sh event-publishing-load one of them
#   RATE=200 DURATION=60s scripts/ops/bench.sh event-publishing-load
#   FOLLOW_RATE=0 scripts/ops/bench.sh event-publishing-load   creates only, nothing polled
#
# Base URLs: COMPLAINTS_URL, NOTIFICATIONS_URL, AUDIT_URL, EVENTS_URL (default ports
# 3005-3008). Output: BENCHMARKS.k6.md (BENCH_OUT overrides), raw k6 output and summaries
# in .run/bench/. Exits non-zero if a script's thresholds failed (the table is written anyway).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=$ROOT/.venv
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.k6.md}
WORK=$ROOT/.run/bench
SCRIPTS=("$@")
((${#SCRIPTS[@]})) || SCRIPTS=(event-publishing-load saga-coordination-stress event-store-performance)

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# shellcheck disable=SC1091
[[ -f $ROOT/.run/env ]] && { set -a; . "$ROOT/.run/env"; set +a; }
K6=${K6:-$VENV/bin/k6}
[[ -x $K6 ]] || "$ROOT/scripts/ops/check.sh" --install-only || die "k6 is missing ($K6)"
PY=$VENV/bin/python
[[ -x $PY ]] || PY=python3

# The k6 scripts send it as a bearer token (k6/lib/suite.js).
TOKEN=$("$ROOT/scripts/token.sh" k6-bench | tail -1) || die "cannot mint a token (scripts/token.sh)"
export TOKEN
export COMPLAINTS_URL=${COMPLAINTS_URL:-http://127.0.0.1:3005}
export NOTIFICATIONS_URL=${NOTIFICATIONS_URL:-http://127.0.0.1:3006}
export AUDIT_URL=${AUDIT_URL:-http://127.0.0.1:3007}
export EVENTS_URL=${EVENTS_URL:-http://127.0.0.1:3008}
for url in "$COMPLAINTS_URL" "$NOTIFICATIONS_URL" "$AUDIT_URL" "$EVENTS_URL"; do
  curl -fs -m 5 -o /dev/null "$url/ready" || die "$url/ready does not answer 200: start the suite first (make up)"
done

# Waits (up to 5 minutes) until the services' work queues are empty, so a script does not
# measure the backlog the previous one left (the event store drains at the stand-in's pace).
wait_for_drain() {
  local api=${RABBITMQ_MANAGEMENT_URL:-http://guest:guest@127.0.0.1:15672}
  local vhost=${RABBITMQ_URL##*/}
  [[ -n $vhost ]] || vhost=%2f
  local waiting
  for _ in $(seq 1 150); do
    waiting=$(curl -fs -m 5 "$api/api/queues/$vhost?columns=name,messages" | "$PY" -c '
import json, sys
queues = json.load(sys.stdin)
work = ("complaint-service.", "notification-service.", "audit-service.", "event-store-service.")
print(sum(q.get("messages") or 0 for q in queues
          if q["name"].startswith(work) and ".dlq" not in q["name"] and ".retry." not in q["name"]))
' 2>/dev/null) || waiting=unknown
    [[ $waiting == 0 ]] && return 0
    sleep 2
  done
  say "the work queues still hold $waiting messages; measuring anyway"
}

mkdir -p "$WORK"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
summaries=()
status=0
for name in "${SCRIPTS[@]}"; do
  script=$ROOT/k6/$name.js
  [[ -f $script ]] || die "no such script: k6/$name.js"
  wait_for_drain
  say "running k6/$name.js (log: .run/bench/$name.log)"
  if ! "$K6" run --quiet --summary-export "$WORK/$name.json" "$script" >"$WORK/$name.log" 2>&1; then
    say "k6/$name.js: thresholds failed or k6 errored (see .run/bench/$name.log)"
    status=1
  fi
  summaries+=("$name=$WORK/$name.json")
done

{
  echo "## k6 load suite"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`scripts/ops/bench.sh\` ($("$K6" version 2>/dev/null | head -1 | cut -d' ' -f1-2))."
  echo "k6 runs on the same machine as the services and the infrastructure (load average before the run: $load_before)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), memory:"
  echo
  echo '```'
  free -h
  echo '```'
  echo
  echo "Services measured (the binary behind each port):"
  echo
  for url in "$COMPLAINTS_URL" "$NOTIFICATIONS_URL" "$AUDIT_URL" "$EVENTS_URL"; do
    port=${url##*:}; port=${port%%/*}
    pid=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    exe=$( [[ -n $pid ]] && readlink "/proc/$pid/exe" 2>/dev/null || echo "unknown (not a local process)")
    exe=${exe% (deleted)}
    echo "- $url: ${exe#"$ROOT"/}"
  done
  echo
  echo "Settings: VUS=${VUS:-default} DURATION=${DURATION:-default} RATE=${RATE:-unset} FOLLOW_RATE=${FOLLOW_RATE:-default} (see each script's header)."
  echo "Propagation times are from the command's answer until the event is seen downstream,"
  echo "polled every 100 ms. Locally MongoDB is the nx-27017 stand-in (DESIGN.md), which bounds the event-store figures."
  echo
  "$PY" "$ROOT/scripts/ops/k6_summary.py" "${summaries[@]}"
} >"$OUT"
say "wrote ${OUT#"$ROOT"/}"
exit $status
