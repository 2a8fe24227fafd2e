#!/usr/bin/env bash
# Start the whole suite on this machine: the infrastructure (scripts/infra-up.sh), a release
# build, then the four services in the background on ports 3005-3008. Running it again
# restarts the services. Stop them with scripts/down.sh (make down).
#
#   SKIP_BUILD=1   use the binaries already in target/release
#   --service NAME (re)start only that service, without building (scripts/faults/ restarts a
#                  service it killed this way)
#   LOG_LEVEL=…    the services' log filter (default info)
#   INSTANCES=N    N instances of each service (default 1): the first on 3005-3008, the k-th on
#                  the same ports + 100·(k-1) (3105-3108, 3205-3208, …); they share the work of
#                  every partitioned queue (ARCHITECTURE.md, "Scaling")
#   PARTITIONS=P   partitions of each work queue (APP_BROKER__PARTITIONS; default 4 when
#                  INSTANCES > 1, else 1). P never goes down here: the highest P a run used is
#                  kept in .run/partitions and used again, since queues of a lower P would be
#                  left bound and filling (lowering P is a migration, ARCHITECTURE.md).
# Logs: .run/logs/<service>.log, <service>.<k>.log for the k-th instance (the previous run's in
# *.log.prev); pids: .run/pids/<service>.pid, <service>.<k>.pid.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${1:-} in
  --service)
    [[ -n ${SERVICE_PORT[${2:-}]:-} ]] || die "usage: $0 [--service $(IFS="|"; echo "${SERVICES[*]}")]"
    SERVICES=("$2") SKIP_BUILD=1 ;;
  "") ;;
  *) die "usage: $0 [--service NAME]" ;;
esac

INSTANCES=${INSTANCES:-1}
[[ $INSTANCES =~ ^[1-9][0-9]?$ ]] || die "INSTANCES must be a number from 1 to 99, not '$INSTANCES'"
if [[ -n ${PARTITIONS:-} ]]; then
  [[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive number, not '$PARTITIONS'"
elif ((INSTANCES > 1)); then
  PARTITIONS=4
else
  PARTITIONS=1
fi
PARTITIONS_FILE="$RUN_DIR/partitions"
used=$(cat "$PARTITIONS_FILE" 2>/dev/null || echo 1)
if [[ $used =~ ^[0-9]+$ ]] && ((used > PARTITIONS)); then
  say "keeping $used partitions per work queue (an earlier run used them; see PARTITIONS above)"
  PARTITIONS=$used
fi

# instance_port SERVICE K / instance_name SERVICE K: where the K-th instance listens, and the
# name of its pid and log files.
instance_port() { echo $((SERVICE_PORT[$1] + 100 * ($2 - 1))); }
instance_name() { if (($2 == 1)); then echo "$1"; else echo "$1.$2"; fi; }

bash "$ROOT/scripts/infra-up.sh"
load_env
mkdir -p "$LOG_DIR" "$PID_DIR" "$RUN_DIR/mail"

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  [[ -x $TARGET/release/${SERVICES[0]} ]] || say "building release binaries (a cold build takes about 8 minutes on 2 cores)"
  (cd "$ROOT" && cargo build --release --workspace --bins --quiet) || die "cargo build --release failed"
fi

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n 1; }

# Every instance to run, as "service k".
instances=()
for svc in "${SERVICES[@]}"; do
  for ((k = 1; k <= INSTANCES; k++)); do instances+=("$svc $k"); done
done

# Stop what a previous `up` started (any number of instances), then make sure the ports are free.
for svc in "${SERVICES[@]}"; do
  for pidfile in "$PID_DIR/$svc.pid" "$PID_DIR/$svc".*.pid; do
    [[ -e $pidfile ]] && stop_pidfile "$pidfile" "$svc" "/release/$svc"
  done
done
for entry in "${instances[@]}"; do
  read -r svc k <<<"$entry"
  port=$(instance_port "$svc" "$k")
  if tcp_open 127.0.0.1 "$port"; then
    die "port $port (for $svc) is taken by another process: $(port_owner "$port"); stop it first"
  fi
done

echo "$PARTITIONS" >"$PARTITIONS_FILE"
for entry in "${instances[@]}"; do
  read -r svc k <<<"$entry"
  bin="$TARGET/release/$svc"
  [[ -x $bin ]] || die "$bin is missing (build with: cargo build --release --workspace --bins)"
  name=$(instance_name "$svc" "$k")
  log="$LOG_DIR/$name.log"
  [[ -f $log ]] && mv -f "$log" "$log.prev"
  (
    cd "$ROOT"
    export PORT=$(instance_port "$svc" "$k") LOG_LEVEL=${LOG_LEVEL:-info} MAIL_DIR=${MAIL_DIR:-$RUN_DIR/mail}
    export APP_BROKER__PARTITIONS=$PARTITIONS
    # Each service as its own broker user (scripts/rabbitmq_users.py), never guest.
    RABBITMQ_URL=$(python3 "$ROOT/scripts/rabbitmq_users.py" --url-for "$svc") || exit 1
    export RABBITMQ_URL
    exec nohup setsid "$bin" </dev/null >"$log" 2>&1 9>&-
  ) &
  echo $! >"$PID_DIR/$name.pid"
done

# Wait until every instance answers /ready with 200 (up to 60 s in all).
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/ready") == 200 ]]; }
pending=("${instances[@]}")
deadline=$((SECONDS + ${UP_TIMEOUT:-60}))
while ((${#pending[@]})); do
  still=()
  for entry in "${pending[@]}"; do
    read -r svc k <<<"$entry"
    name=$(instance_name "$svc" "$k")
    if ready "$(instance_port "$svc" "$k")"; then continue; fi
    if ! pid_alive "$PID_DIR/$name.pid"; then
      say "$name exited during start-up; last lines of .run/logs/$name.log:"
      tail -n 30 "$LOG_DIR/$name.log" >&2
      die "$name did not start (the others are still running; make down stops them)"
    fi
    still+=("$entry")
  done
  pending=("${still[@]}")
  ((${#pending[@]})) || break
  if ((SECONDS >= deadline)); then
    for entry in "${pending[@]}"; do
      read -r svc k <<<"$entry"
      name=$(instance_name "$svc" "$k")
      port=$(instance_port "$svc" "$k")
      say "$name is not ready on :$port after ${UP_TIMEOUT:-60}s; /ready says: $(curl -s --max-time 2 "http://127.0.0.1:$port/ready" | head -c 400)"
      say "last lines of .run/logs/$name.log:"
      tail -n 30 "$LOG_DIR/$name.log" >&2
    done
    die "not ready: ${pending[*]} (the others are still running; make down stops them)"
  fi
  sleep 0.5
done

mgmt=$(url_host "$RABBITMQ_MANAGEMENT_URL"):$(url_port "$RABBITMQ_MANAGEMENT_URL" 15672)
echo "The suite is up ($INSTANCES instance(s) of each service, $PARTITIONS partition(s) per work queue):"
for entry in "${instances[@]}"; do
  read -r svc k <<<"$entry"
  base="http://127.0.0.1:$(instance_port "$svc" "$k")"
  printf '  %-23s %s   metrics %s/metrics   OpenAPI %s/api-docs/openapi.json\n' "$(instance_name "$svc" "$k")" "$base" "$base" "$base"
done
printf '  %-21s http://%s   (guest/guest)\n' "RabbitMQ management" "$mgmt"
echo "Logs: .run/logs/<service>.log   Connection settings: .run/env   Stop: make down"
