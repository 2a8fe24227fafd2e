#!/usr/bin/env bash
# Start the whole suite on this machine: the infrastructure (scripts/infra-up.sh), a release
# build, then the four services in the background on ports 3005-3008. Running it again
# restarts the services. Stop them with scripts/down.sh (make down).
#
#   SKIP_BUILD=1   use the binaries already in target/release
#   --service NAME (re)start only that service, without building (scripts/faults/ restarts a
#                  service it killed this way)
#   LOG_LEVEL=…    the services' log filter (default info)
# Logs: .run/logs/<service>.log (the previous run's in <service>.log.prev); pids: .run/pids/.
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

bash "$ROOT/scripts/infra-up.sh"
load_env
mkdir -p "$LOG_DIR" "$PID_DIR" "$RUN_DIR/mail"

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  [[ -x $TARGET/release/${SERVICES[0]} ]] || say "building release binaries (a cold build takes about 8 minutes on 2 cores)"
  (cd "$ROOT" && cargo build --release --workspace --bins --quiet) || die "cargo build --release failed"
fi

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n 1; }

# Stop what a previous `up` started, then make sure the ports are free.
for svc in "${SERVICES[@]}"; do
  stop_pidfile "$PID_DIR/$svc.pid" "$svc" "/release/$svc"
done
for svc in "${SERVICES[@]}"; do
  port=${SERVICE_PORT[$svc]}
  if tcp_open 127.0.0.1 "$port"; then
    die "port $port (for $svc) is taken by another process: $(port_owner "$port"); stop it first"
  fi
done

for svc in "${SERVICES[@]}"; do
  bin="$TARGET/release/$svc"
  [[ -x $bin ]] || die "$bin is missing (build with: cargo build --release --workspace --bins)"
  log="$LOG_DIR/$svc.log"
  [[ -f $log ]] && mv -f "$log" "$log.prev"
  (
    cd "$ROOT"
    export PORT=${SERVICE_PORT[$svc]} LOG_LEVEL=${LOG_LEVEL:-info} MAIL_DIR=${MAIL_DIR:-$RUN_DIR/mail}
    # Each service as its own broker user (scripts/rabbitmq_users.py), never guest.
    RABBITMQ_URL=$(python3 "$ROOT/scripts/rabbitmq_users.py" --url-for "$svc") || exit 1
    export RABBITMQ_URL
    exec nohup setsid "$bin" </dev/null >"$log" 2>&1 9>&-
  ) &
  echo $! >"$PID_DIR/$svc.pid"
done

# Wait until every service answers /ready with 200 (up to 60 s in all).
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/ready") == 200 ]]; }
pending=("${SERVICES[@]}")
deadline=$((SECONDS + ${UP_TIMEOUT:-60}))
while ((${#pending[@]})); do
  still=()
  for svc in "${pending[@]}"; do
    if ready "${SERVICE_PORT[$svc]}"; then continue; fi
    if ! pid_alive "$PID_DIR/$svc.pid"; then
      say "$svc exited during start-up; last lines of .run/logs/$svc.log:"
      tail -n 30 "$LOG_DIR/$svc.log" >&2
      die "$svc did not start (the others are still running; make down stops them)"
    fi
    still+=("$svc")
  done
  pending=("${still[@]}")
  ((${#pending[@]})) || break
  if ((SECONDS >= deadline)); then
    for svc in "${pending[@]}"; do
      say "$svc is not ready on :${SERVICE_PORT[$svc]} after ${UP_TIMEOUT:-60}s; /ready says: $(curl -s --max-time 2 "http://127.0.0.1:${SERVICE_PORT[$svc]}/ready" | head -c 400)"
      say "last lines of .run/logs/$svc.log:"
      tail -n 30 "$LOG_DIR/$svc.log" >&2
    done
    die "not ready: ${pending[*]} (the others are still running; make down stops them)"
  fi
  sleep 0.5
done

mgmt=$(url_host "$RABBITMQ_MANAGEMENT_URL"):$(url_port "$RABBITMQ_MANAGEMENT_URL" 15672)
echo "The suite is up:"
for svc in "${SERVICES[@]}"; do
  base="http://127.0.0.1:${SERVICE_PORT[$svc]}"
  printf '  %-21s %s   metrics %s/metrics   OpenAPI %s/api-docs/openapi.json\n' "$svc" "$base" "$base" "$base"
done
printf '  %-21s http://%s   (guest/guest)\n' "RabbitMQ management" "$mgmt"
echo "Logs: .run/logs/<service>.log   Connection settings: .run/env   Stop: make down"
