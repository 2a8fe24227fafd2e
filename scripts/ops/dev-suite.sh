#!/usr/bin/env bash
# Start the four debug binaries on free ports against a fresh RabbitMQ vhost, PostgreSQL
# schemas, MongoDB database and Redis prefix, to try the ops checks by hand:
#
#   eval "$(scripts/ops/dev-suite.sh start)"   # prints the exports check.sh reads
#   scripts/ops/check.sh
#   scripts/ops/dev-suite.sh stop               # stops them, deletes the vhost
#   scripts/ops/dev-suite.sh relaunch SERVICE   # starts one again after it died (scripts/faults/)
#
# Needs `cargo build --bins` first (OPS_PROFILE=release: `cargo build --release --bins`, for
# benchmarks) and the local infrastructure (scripts/infra-up.sh).
# State lives in $OPS_SUITE_DIR (default /tmp/ops-suite): pids, logs, the env file.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
DIR=${OPS_SUITE_DIR:-/tmp/ops-suite}
MANAGEMENT=${RABBITMQ_MANAGEMENT_URL:-http://guest:guest@127.0.0.1:15672}
# The broker of RABBITMQ_URL (.run/env), without its vhost.
AMQP_BASE=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
AMQP_BASE=${AMQP_BASE%/*}
# OPS_SERVICES narrows the set (e.g. while a service does not build yet).
read -r -a SERVICES <<<"${OPS_SERVICES:-complaint-service notification-service audit-service event-store-service}"
declare -A URL_VAR=([complaint-service]=COMPLAINTS_URL [notification-service]=NOTIFICATIONS_URL
  [audit-service]=AUDIT_URL [event-store-service]=EVENTS_URL)

BIN_DIR=$TARGET/${OPS_PROFILE:-debug}

say() { printf 'dev-suite: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

mgmt() { # METHOD PATH [BODY]
  local creds=${MANAGEMENT#*://}; creds=${creds%%@*}
  local base=${MANAGEMENT%%://*}://${MANAGEMENT#*@}
  # Retried: while many vhosts are being deleted the management API may drop a request.
  curl -fsS --retry 6 --retry-delay 5 --retry-all-errors -m 60 -u "$creds" -X "$1" -H 'content-type: application/json' "${base%/}/api/$2" ${3:+-d "$3"}
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  [[ -f $DIR/env ]] && die "already started ($DIR/env); run '$0 stop' first"
  for svc in "${SERVICES[@]}"; do
    [[ -x $BIN_DIR/$svc ]] || die "${BIN_DIR#"$ROOT"/}/$svc is missing: cargo build --bins"
  done
  mkdir -p "$DIR"
  # Named like the tests' leftovers (test-<unix seconds>…), so scripts/clean-test-state.sh
  # removes whatever a crashed run leaves behind, and leaves a young one alone.
  local id vhost
  id="$(date +%s)_ops_$(python3 -c 'import uuid; print(uuid.uuid4().hex[:6])')"
  vhost="test-${id//_/-}"
  mgmt PUT "vhosts/$vhost" '{}' >/dev/null
  local amqp_user=${AMQP_BASE#*://}
  amqp_user=${amqp_user%%[:@]*}
  mgmt PUT "permissions/$vhost/$amqp_user" '{"configure":".*","write":".*","read":".*"}' >/dev/null
  # The services' own users and the exchanges, as definitions.json makes them at boot.
  python3 "$ROOT/scripts/rabbitmq_users.py" --vhost "$vhost" || die "could not prepare the broker users"
  {
    echo "export RABBITMQ_VHOST='$vhost'"
    echo "export OPS_SUITE_ID='$id'"
    echo "export OPS_BIN_DIR='$BIN_DIR'"  # relaunch starts the same binaries
  } >"$DIR/env"
  for svc in "${SERVICES[@]}"; do
    local port
    port=$(free_port)
    : >"$DIR/$svc.log"
    launch_service "$svc" "$port" "$vhost" "$id"
    echo "export ${URL_VAR[$svc]}='http://127.0.0.1:$port'" >>"$DIR/env"
  done
  # shellcheck disable=SC1091
  . "$DIR/env"
  for svc in "${SERVICES[@]}"; do
    wait_ready "$svc" || { stop; exit 1; }
  done
  cat "$DIR/env"
}

# launch_service SERVICE PORT VHOST ID: start one binary in the background (pid in $DIR).
launch_service() {
  local svc=$1 port=$2 vhost=$3 id=$4
  (
    export PORT=$port LOG_LEVEL=${LOG_LEVEL:-info}
    RABBITMQ_URL=$(python3 "$ROOT/scripts/rabbitmq_users.py" --url-for "$svc" --vhost "$vhost") || exit 1
    export RABBITMQ_URL
    export APP_DATABASE__SCHEMA="test_${id}_${svc%%-*}"
    export APP_MONGO__DATABASE="test_$id"
    export APP_REDIS__STREAM_PREFIX="test:${id//_/-}:"
    export MAIL_DIR="$DIR/mail"
    cd "$ROOT"  # relative defaults (the agent seed file) resolve from the repository
    exec setsid "$BIN_DIR/$svc" >>"$DIR/$svc.log" 2>&1
  ) &
  echo $! >"$DIR/$svc.pid"
}

# wait_ready SERVICE: until its /ready answers 200, or it exits, or 3 minutes pass.
wait_ready() {
  local svc=$1 var=${URL_VAR[$1]} ok=
  for _ in $(seq 1 360); do  # up to 3 min: a busy broker is slow to open a new vhost
    if curl -fs -o /dev/null "${!var}/ready"; then ok=1; break; fi
    kill -0 "$(cat "$DIR/$svc.pid")" 2>/dev/null || break
    sleep 0.5
  done
  [[ -n $ok ]] || { say "$svc did not become ready; tail of its log:"; tail -20 "$DIR/$svc.log" >&2; return 1; }
  say "$svc ready on ${!var}"
}

# relaunch SERVICE: start one service again, on the port, vhost and schemas it had (after it
# died or was killed, e.g. by scripts/faults/); a running one is left alone.
relaunch() {
  local svc=$1
  [[ -n ${URL_VAR[$svc]:-} ]] || die "unknown service: $svc"
  [[ -f $DIR/env ]] || die "not started ($DIR/env is missing)"
  # shellcheck disable=SC1091
  . "$DIR/env"
  if [[ -f $DIR/$svc.pid ]] && kill -0 "$(cat "$DIR/$svc.pid")" 2>/dev/null; then
    die "$svc still runs (pid $(cat "$DIR/$svc.pid"))"
  fi
  local url=${URL_VAR[$svc]}
  BIN_DIR=${OPS_BIN_DIR:-$BIN_DIR}
  launch_service "$svc" "${!url##*:}" "$RABBITMQ_VHOST" "$OPS_SUITE_ID"
  wait_ready "$svc"
}

stop() {
  [[ -f $DIR/env ]] || { say "not started"; return 0; }
  # shellcheck disable=SC1091
  . "$DIR/env"
  for svc in "${SERVICES[@]}"; do
    local pidfile=$DIR/$svc.pid pid
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$pidfile"
  done
  mgmt DELETE "vhosts/$RABBITMQ_VHOST" >/dev/null 2>&1 || true
  if [[ ${KEEP_SCHEMAS:-} != 1 ]]; then
    for svc in "${SERVICES[@]}"; do
      psql "${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/complaints}" -qc \
        "DROP SCHEMA IF EXISTS test_${OPS_SUITE_ID}_${svc%%-*} CASCADE" >/dev/null 2>&1 || true
    done
  fi
  rm -f "$DIR/env"
  say "stopped; vhost $RABBITMQ_VHOST deleted"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  relaunch) [[ -n ${2:-} ]] || die "usage: $0 relaunch SERVICE"; relaunch "$2" ;;
  *) echo "usage: $0 start|stop|relaunch SERVICE" >&2; exit 2 ;;
esac
