#!/usr/bin/env bash
# Private servers for trying the global faults (RabbitMQ stopped, PostgreSQL restarted, the
# MongoDB stand-in killed) on a machine whose default servers others are using: a second
# PostgreSQL cluster, a second RabbitMQ node and a second stand-in, on other ports.
#
#   eval "$(scripts/faults/private-infra.sh start)"   # prints the exports that point at them
#   OPS_SUITE_DIR=/tmp/faults-suite scripts/ops/dev-suite.sh start
#   OPS_SUITE_DIR=/tmp/faults-suite make test-faults
#   scripts/faults/private-infra.sh stop               # stops and removes all three
#
# Needs root (pg_createcluster, the rabbitmq user) and the Debian packages and .venv that
# scripts/infra-up.sh installs. Ports: PostgreSQL 5433, AMQP 5673, Erlang distribution 25673,
# management 15673, stand-in 27018 (FAULTS_PG_PORT, FAULTS_AMQP_PORT, …). State in /tmp/faults-infra.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DIR=${FAULTS_INFRA_DIR:-/tmp/faults-infra}
PG_PORT=${FAULTS_PG_PORT:-5433}
PG_VERSION=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
PG_CLUSTER=faults
AMQP_PORT=${FAULTS_AMQP_PORT:-5673}
DIST_PORT=${FAULTS_DIST_PORT:-25673}
MGMT_PORT=${FAULTS_MANAGEMENT_PORT:-15673}
MONGO_PORT=${FAULTS_MONGO_PORT:-27018}
NODE=faults@localhost

rabbit_env() {
  export RABBITMQ_NODENAME=$NODE RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$DIST_PORT
  export RABBITMQ_MNESIA_BASE=$DIR/rabbitmq/mnesia RABBITMQ_LOG_BASE=$DIR/rabbitmq/log
  export RABBITMQ_PID_FILE=$DIR/rabbitmq/pid RABBITMQ_CONFIG_FILE=$DIR/rabbitmq/rabbitmq.conf
  export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/rabbitmq/enabled_plugins
}

start() {
  mkdir -p "$DIR"
  # PostgreSQL: a second cluster of the installed version, trusting local TCP like the main one.
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$PG_CLUSTER"; then
    pg_createcluster "$PG_VERSION" "$PG_CLUSTER" -p "$PG_PORT" >/dev/null
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"/etc/postgresql/$PG_VERSION/$PG_CLUSTER/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start 9>&- 2>/dev/null || true
  wait_for 60 "PostgreSQL on :$PG_PORT" pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL did not start"
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='complaints'" | grep -q 1 \
    || psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE complaints" >/dev/null

  # RabbitMQ: a second node (own name, ports, data) of the installed server.
  rabbit_env
  mkdir -p "$DIR/rabbitmq/mnesia" "$DIR/rabbitmq/log"
  echo '[rabbitmq_management,rabbitmq_consistent_hash_exchange].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
  printf 'listeners.tcp.local = 127.0.0.1:%s\nmanagement.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\n' \
    "$AMQP_PORT" "$MGMT_PORT" >"$RABBITMQ_CONFIG_FILE"
  chown -R rabbitmq:rabbitmq "$DIR/rabbitmq"
  if ! tcp_open 127.0.0.1 "$AMQP_PORT"; then
    rabbitmq-server -detached >"$DIR/rabbitmq-start.log" 2>&1 9>&- || true
    wait_for 120 "RabbitMQ node $NODE" tcp_open 127.0.0.1 "$AMQP_PORT" || die "RabbitMQ did not start; see $DIR/rabbitmq/log"
  fi
  wait_for 60 "its management API" curl -fs -o /dev/null -u guest:guest "http://127.0.0.1:$MGMT_PORT/api/overview" \
    || die "the management API on :$MGMT_PORT does not answer"

  # The stand-in, as scripts/infra-up.sh starts it.
  if ! tcp_open 127.0.0.1 "$MONGO_PORT"; then
    mkdir -p "$DIR/mongo"
    "$VENV/bin/nx-27017" -d --host 127.0.0.1 --port "$MONGO_PORT" --data-dir "$DIR/mongo" \
      --log-file "$DIR/mongo.log" --pid-file "$DIR/mongo.pid" </dev/null >/dev/null 2>&1 9>&-
    wait_for 30 "the stand-in on :$MONGO_PORT" tcp_open 127.0.0.1 "$MONGO_PORT" || die "the stand-in did not start"
  fi
  cat <<ENV
export DATABASE_URL='postgres://postgres:postgres@127.0.0.1:$PG_PORT/complaints'
export RABBITMQ_URL='amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f'
export RABBITMQ_MANAGEMENT_URL='http://guest:guest@127.0.0.1:$MGMT_PORT'
export MONGODB_URL='mongodb://127.0.0.1:$MONGO_PORT'
export FAULTS_PG_CLUSTER='$PG_VERSION $PG_CLUSTER'
export FAULTS_RABBITMQ_NODE='$NODE'
export FAULTS_MONGO_PIDFILE='$DIR/mongo.pid'
ENV
}

stop() {
  [[ -f $DIR/mongo.pid ]] && stop_pidfile "$DIR/mongo.pid" "stand-in :$MONGO_PORT" nx-27017
  rabbit_env
  rabbitmqctl -n "$NODE" stop >/dev/null 2>&1 || true
  pg_dropcluster --stop "$PG_VERSION" "$PG_CLUSTER" 2>/dev/null || true
  rm -rf "$DIR"
  say "private PostgreSQL, RabbitMQ node and stand-in stopped and removed"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
