#!/usr/bin/env bash
# Run the workspace's tests (used by `make test`): cargo-nextest when installed (doc tests with
# cargo test --doc first, since nextest does not run them), plain `cargo test` otherwise.
# Ends with one plain line "tests: N passed, M failed, K skipped" and keeps it in
# .run/test-summary. Extra arguments go to the test runner (e.g. a filter).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT" || exit 1
mkdir -p "$LOG_DIR"
out="$LOG_DIR/test-output.log"
summary="$RUN_DIR/test-summary"
rm -f "$summary"

strip_ansi() { sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g'; }
color=never
[[ -t 1 ]] && color=always

# -p/--package arguments narrow the run (and the doc tests) to those packages.
scope=() args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    -p|--package) scope+=("${args[i]}" "${args[i+1]:-}"); i=$((i + 1)) ;;
    -p*|--package=*) scope+=("${args[i]}") ;;
  esac
done
if ((${#scope[@]})); then runner_scope=(); else scope=(--workspace); runner_scope=(--workspace); fi

status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo test "${scope[@]}" --doc --color "$color" 2>&1 | tee "$out.doc"
  doc_status=${PIPESTATUS[0]}
  cargo nextest run "${runner_scope[@]}" --no-fail-fast --color "$color" "$@" 2>&1 | tee "$out"
  status=${PIPESTATUS[0]}
  ((status)) || status=$doc_status
  # "Summary [  12.3s] 120 tests run: 118 passed, 2 failed, 3 skipped"
  line=$(strip_ansi <"$out" | grep -E '^ *Summary \[' | tail -n 1)
  passed=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
  failed=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || true)
  timedout=$(grep -oE '[0-9]+ timed out' <<<"$line" | grep -oE '[0-9]+' || true)
  skipped=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || true)
  failed=$((${failed:-0} + ${timedout:-0}))
  # Add the doc tests' "test result: ok. N passed; M failed; K ignored" lines.
  read -r dp df di < <(strip_ansi <"$out.doc" | awk '/^test result:/ {
      for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) g += $i }
    } END { print p + 0, f + 0, g + 0 }')
  passed=$((${passed:-0} + dp)) failed=$((failed + df)) skipped=$((${skipped:-0} + di))
else
  say "cargo-nextest not found; running cargo test"
  cargo test "${runner_scope[@]}" --no-fail-fast --color "$color" "$@" 2>&1 | tee "$out"
  status=${PIPESTATUS[0]}
  read -r passed failed skipped < <(strip_ansi <"$out" | awk '/^test result:/ {
      for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) g += $i }
    } END { print p + 0, f + 0, g + 0 }')
fi

if ((status)) && ((failed == 0)); then
  say "the test run failed before any test failed (build error?); see above or $out"
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped" | tee "$summary"
exit "$status"
