#!/usr/bin/env bash
# scripts/token.sh [SUB] [ROLES]: prints a token on its last line for the scripts that call the
# APIs (smoke, benchmarks, fault trials, schemathesis): $TOKEN if set, else one with every
# role (or ROLES, comma-separated), signed like `make token` with the local key
# (.run/jwt-secret, or APP_AUTH__HS256_SECRET), by the token binary already built (release or
# debug) or built now.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET == /* ]] || TARGET=$ROOT/$TARGET
sub=${1:-ops-scripts}
roles=${2:-customer,agent,supervisor,auditor,admin}
if [[ -n ${TOKEN:-} ]]; then echo "$TOKEN"; exit 0; fi
cd "$ROOT"
for bin in "$TARGET/release/token" "$TARGET/debug/token"; do
  if [[ -x $bin ]]; then exec "$bin" --role "$roles" --sub "$sub"; fi
done
exec cargo run -q -p shared --bin token -- --role "$roles" --sub "$sub"
