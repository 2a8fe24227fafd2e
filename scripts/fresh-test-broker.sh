#!/usr/bin/env bash
# Give the test run a RabbitMQ that answers promptly.
#
# Every integration test makes a vhost of its own, full of quorum queues; a broker that has
# collected hundreds of them from earlier runs starts and stops vhosts slowly, and RabbitMQ
# 3.10 can wedge its vhost supervisor while deleting many (seen here: vhost creation hung
# for 25 minutes). So:
# - on CI (CI=true), where nothing else uses the broker, reset it to empty before the tests
#   (`rabbitmqctl reset`; if the broker is wedged, stop it hard and start it on a fresh
#   database). A developer's broker is never reset;
# - everywhere, prove that a vhost can be created and deleted within seconds, and say how to
#   recover if not;
# - after a reset, create the services' broker users again (scripts/rabbitmq_users.py).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

api=${RABBITMQ_MANAGEMENT_URL:-http://guest:guest@127.0.0.1:15672}
probe_vhost="test-probe-$$"

vhost_round_trip() {
  curl -fsS -m 10 -o /dev/null -X PUT -H 'content-type: application/json' -d '{}' "$api/api/vhosts/$probe_vhost" \
    && curl -fsS -m 10 -o /dev/null -X DELETE "$api/api/vhosts/$probe_vhost"
}

wait_for_management() {
  for _ in $(seq 1 120); do
    curl -fsS -m 2 -o /dev/null "$api/api/overview" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

hard_restart() {
  warn "RabbitMQ is wedged; restarting it on an empty database"
  pkill -9 -f rabbitmqctl 2>/dev/null || true
  pkill -9 -u rabbitmq beam.smp 2>/dev/null || true
  sleep 2
  rm -rf /var/lib/rabbitmq/mnesia/*
  rabbitmq-server -detached >"$LOG_DIR/rabbitmq-start.log" 2>&1 9>&- || true
  wait_for_management || die "RabbitMQ did not come back after a restart"
}

if [[ ${CI:-} == true ]]; then
  if ! { timeout 60 rabbitmqctl stop_app && timeout 60 rabbitmqctl reset && timeout 60 rabbitmqctl start_app; } >"$LOG_DIR/rabbitmq-reset.log" 2>&1 9>&-; then
    hard_restart
  fi
  wait_for_management || die "the RabbitMQ management API did not come back"
fi

if ! vhost_round_trip; then
  if [[ ${CI:-} == true ]]; then
    hard_restart
    wait_for_management && vhost_round_trip || die "RabbitMQ cannot create a vhost"
  else
    die "RabbitMQ did not create and delete a vhost within 10 s; it may be wedged on vhost
deletions. Recover with: rabbitmqctl stop_app && rabbitmqctl reset && rabbitmqctl start_app
(this deletes every vhost, queue and user but guest; then run scripts/infra-up.sh)"
  fi
fi

if [[ ${CI:-} == true ]]; then
  # A reset deletes every user but guest: make the services' users (and the exchanges of
  # vhost "/") again, as scripts/infra-up.sh did.
  python3 "$ROOT/scripts/rabbitmq_users.py" || die "could not recreate the services' RabbitMQ users"
fi
