#!/usr/bin/env bash
# Stop the services that scripts/up.sh started (every instance). The infrastructure keeps running; with
# --infra also stop the MongoDB stand-in (nx-27017) that scripts/infra-up.sh started.
# PostgreSQL, Redis and RabbitMQ are the machine's own servers and are never stopped here.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INFRA=0
case ${1:-} in
  --infra) INFRA=1 ;;
  "") ;;
  *) die "usage: $0 [--infra]" ;;
esac

stopped=0
# Every instance scripts/up.sh started: <service>.pid, and <service>.<k>.pid with INSTANCES > 1.
for svc in "${SERVICES[@]}"; do
  for pidfile in "$PID_DIR/$svc.pid" "$PID_DIR/$svc".*.pid; do
    [[ -e $pidfile ]] || continue
    if pid_alive "$pidfile" "/release/$svc"; then stopped=$((stopped + 1)); fi
    stop_pidfile "$pidfile" "$svc" "/release/$svc"
  done
done
((stopped)) || say "no service was running"

if ((INFRA)); then
  found=0
  for pidfile in "$PID_DIR"/mongo*.pid; do
    [[ -e $pidfile ]] || continue
    if pid_alive "$pidfile" nx-27017; then found=1; fi
    stop_pidfile "$pidfile" "MongoDB stand-in nx-27017" nx-27017
  done
  ((found)) || say "no MongoDB stand-in started from this checkout is running"
  say "PostgreSQL, Redis and RabbitMQ are left running (machine services)"
else
  say "infrastructure left running (PostgreSQL, Redis, RabbitMQ, MongoDB stand-in); 'make down-infra' also stops the stand-in"
fi
