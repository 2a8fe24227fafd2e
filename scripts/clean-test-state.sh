#!/usr/bin/env bash
# Remove leftovers of earlier test runs so the local servers don't fill up: RabbitMQ vhosts
# test-*, PostgreSQL schemas test_* (database of DATABASE_URL), Redis keys test:*, MongoDB
# databases test_*. Quick (bounded to ~10 s) and never fails the caller.
#
# Usage: scripts/clean-test-state.sh [rabbitmq|postgresql|redis|mongodb ...]
#   CLEAN_MIN_AGE=SECONDS  keep what looks in use or younger than this (default 600; 0 when
#                          CI=true, where no other run shares the servers); see
#                          scripts/clean_test_state.py for what "in use" means.
#   CLEAN_VERBOSE=1        say what was kept even when nothing was removed.
#   CLEAN_DRY_RUN=1        only say what would be removed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

if [[ ${CI:-} == true ]]; then : "${CLEAN_MIN_AGE:=0}"; else : "${CLEAN_MIN_AGE:=600}"; fi
export CLEAN_MIN_AGE CLEAN_RUN_DIR="$RUN_DIR"

PY=python3
[[ -x $VENV/bin/python ]] && PY=$VENV/bin/python # has pymongo
timeout -k 1 12 "$PY" "$ROOT/scripts/clean_test_state.py" "$@" || warn "cleaning stopped early (exit $?); nothing lost"
exit 0
