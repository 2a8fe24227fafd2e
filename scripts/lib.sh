# Shared helpers for the scripts in this folder. Source it; don't run it.
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR="$ROOT/.run"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"
ENV_FILE="$RUN_DIR/env"
VENV="$ROOT/.venv"
# Where cargo puts the binaries: CARGO_TARGET_DIR (one target dir shared by checkouts), else
# ./target. A relative CARGO_TARGET_DIR is taken from the repository, as cargo does here.
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET == /* ]] || TARGET="$ROOT/$TARGET"

# The four services and their ports (DESIGN.md: "REST contract").
SERVICES=(complaint-service notification-service audit-service event-store-service)
declare -A SERVICE_PORT=(
  [complaint-service]=3005
  [notification-service]=3006
  [audit-service]=3007
  [event-store-service]=3008
)

# Defaults; each can be overridden by the caller's environment, which also wins over .run/env.
ENV_VARS=(DATABASE_URL RABBITMQ_URL RABBITMQ_MANAGEMENT_URL REDIS_URL MONGODB_URL)
declare -A CALLER_ENV=()
for _v in "${ENV_VARS[@]}"; do [[ -n ${!_v:-} ]] && CALLER_ENV[$_v]=${!_v}; done
unset _v
: "${DATABASE_URL:=postgres://postgres:postgres@127.0.0.1:5432/complaints}"
: "${RABBITMQ_URL:=amqp://guest:guest@127.0.0.1:5672/%2f}"
: "${RABBITMQ_MANAGEMENT_URL:=http://guest:guest@127.0.0.1:15672}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"
: "${MONGODB_URL:=mongodb://127.0.0.1:27017}"

SCRIPT_NAME=$(basename "$0" .sh)
say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

# url_host URL / url_port URL DEFAULT: host and port of the first host in a URL
# (handles user:pass@, [v6]:port, and mongodb's host1,host2 lists).
_url_authority() {
  local rest=${1#*://}
  rest=${rest%%[/?]*}
  rest=${rest##*@}
  printf '%s' "${rest%%,*}"
}
url_host() {
  local a
  a=$(_url_authority "$1")
  if [[ $a == \[* ]]; then a=${a#[}; printf '%s' "${a%%]*}"; else printf '%s' "${a%%:*}"; fi
}
url_port() {
  local a p
  a=$(_url_authority "$1")
  if [[ $a == \[* ]]; then p=${a##*]}; else p=${a#"${a%%:*}"}; fi
  p=${p#:}
  printf '%s' "${p:-$2}"
}
is_local_host() {
  case "$1" in 127.*|localhost|::1|"") return 0 ;; *) return 1 ;; esac
}

# tcp_open HOST PORT: true if a TCP handshake succeeds within 2 s.
tcp_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.5 s until it succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      warn "$what did not come up within ${secs}s"
      return 1
    fi
    sleep 0.5
  done
}

# load_env: read .run/env (written by infra-up.sh) if present; what the caller set wins.
load_env() {
  local v
  if [[ -f $ENV_FILE ]]; then
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
  fi
  for v in "${!CALLER_ENV[@]}"; do export "$v=${CALLER_ENV[$v]}"; done
  export "${ENV_VARS[@]}"
}

# pid_alive PIDFILE [NEEDLE]: true if the pid in PIDFILE runs and (if given) its
# command line contains NEEDLE (guards against a recycled pid).
pid_alive() {
  local file=$1 needle=${2:-} pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -z $needle ]] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle"
}

# stop_pidfile PIDFILE NAME [NEEDLE]: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pidfile() {
  local file=$1 name=$2 needle=${3:-} pid i
  if pid_alive "$file" "$needle"; then
    pid=$(<"$file")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "$name (pid $pid) ignored SIGTERM for 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}
