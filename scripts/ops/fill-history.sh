#!/usr/bin/env bash
# scripts/ops/fill-history.sh [EVENTS]: grows the local suite's stores by about EVENTS events
# each (default 1,000,000), so that `make bench-pipeline` can be run again against a long
# history (issue 11: cost per complaint must not depend on the size of the history).
#
# After `make up`, on the local databases only (it refuses a DATABASE_URL that is not local):
# - the event store and the audit trail get EVENTS events through their real path: SAGA_*
#   events published to `saga.events`, which only those two services consume, so each one is
#   stored, mirrored and chained exactly as a live event would be (the audit chain verifies);
# - complaint-service's event log, outbox, views and timeline, and notification-service's
#   complaints, notifications and outbox get copies of the rows they already hold, under new
#   ids, until they hold about EVENTS rows. The copies of events are appended like new ones,
#   so the projector folds them into views as it would live events. (An outbox holds
#   published rows only where a relay retention keeps them: by default it copies none.)
# The copies are synthetic history: they only make the tables and indexes as large as a
# long-running suite's. Run a benchmark first, so that there are rows to copy.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EVENTS=${1:-1000000}
set -a; . ./.run/env; set +a
case "$DATABASE_URL" in
  *@127.0.0.1*|*@localhost*|*host=/*) ;;
  *) echo "fill-history: refusing a non-local DATABASE_URL" >&2; exit 2 ;;
esac

.venv/bin/python -c 'import pika' 2>/dev/null || .venv/bin/pip install -q -r scripts/ops/requirements.txt

psql_q() { psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
rows() { psql "$DATABASE_URL" -X -Atc "SELECT count(*) FROM $1"; }

# How many copies of a table's rows make it about EVENTS rows (0 if it holds that many).
copies_for() {
  local have missing
  have=$(rows "$1"); missing=$(( EVENTS - have ))
  if (( have == 0 || missing <= 0 )); then echo 0; else echo $(( (missing + have - 1) / have )); fi
}

echo "fill-history: publishing $EVENTS SAGA_* events to saga.events (event store, audit trail)"
.venv/bin/python - "$EVENTS" <<'PY'
import json, os, sys, time, uuid, datetime
import pika
total = int(sys.argv[1])
params = pika.URLParameters(os.environ["RABBITMQ_URL"])
connection = pika.BlockingConnection(params)
channel = connection.channel()
types = ["SAGA_STEP_COMPLETED", "SAGA_COMPLETED"]
started = time.time()
for n in range(total):
    saga = uuid.uuid4()
    event_type = types[n % 2]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    envelope = {
        "eventId": str(uuid.uuid4()), "eventType": event_type,
        "aggregateId": str(saga), "aggregateType": "Saga",
        "eventData": {"sagaId": str(saga), "sagaType": "ASSIGNMENT",
                      "complaintId": str(uuid.uuid4()), "status": "RUNNING",
                      "step": "notify-assignee"},
        "metadata": {"timestamp": now, "version": 1, "correlationId": str(uuid.uuid4()),
                     "userId": "fill-history", "source": "complaint-service",
                     "schemaVersion": 1},
    }
    channel.basic_publish(
        "saga.events", event_type.lower().replace("_", "."), json.dumps(envelope),
        pika.BasicProperties(content_type="application/json", delivery_mode=2,
                             message_id=envelope["eventId"], type=event_type,
                             app_id="complaint-service"))
    if n % 50000 == 49999:
        print(f"fill-history: {n + 1} published ({(n + 1) / (time.time() - started):.0f}/s)",
              flush=True)
connection.close()
PY
echo "fill-history: waiting for the event store and the audit trail to take them in"
.venv/bin/python - <<'PY'
import base64, json, os, time, urllib.request
from urllib.parse import urlsplit
url = urlsplit(os.environ["RABBITMQ_MANAGEMENT_URL"])
auth = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
queues = ["event-store-service.all-events", "audit-service.all-events"]
while True:
    left = 0
    for q in queues:
        request = urllib.request.Request(
            f"{url.scheme}://{url.hostname}:{url.port}/api/queues/%2f/{q}",
            headers={"Authorization": f"Basic {auth}"})
        left += json.load(urllib.request.urlopen(request)).get("messages", 0)
    if left == 0:
        break
    print(f"fill-history: {left} messages still queued", flush=True)
    time.sleep(15)
PY

n=$(copies_for complaint.complaint_events)
echo "fill-history: complaint-service: $n copies of its event log and its (published) outbox"
psql_q <<SQL
SET search_path TO complaint;
INSERT INTO complaint_events (aggregate_id, version, event_id, event_type, data, metadata, recorded_at)
SELECT md5(e.aggregate_id::text || g)::uuid, e.version, gen_random_uuid(), e.event_type, e.data,
       e.metadata, e.recorded_at
FROM complaint_events e, generate_series(1, $n) g
ORDER BY g, e.position;
INSERT INTO outbox (event_id, envelope, published_at)
SELECT gen_random_uuid(), o.envelope, now()
FROM outbox o, generate_series(1, $n) g WHERE o.published_at IS NOT NULL;
SQL

n=$(copies_for notification.notifications)
echo "fill-history: notification-service: $n copies of its complaints, notifications and outbox (published)"
psql_q <<SQL
SET search_path TO notification;
INSERT INTO complaints (id, version, title, status, priority, customer_name, customer_email,
                        assignee, sla_deadline, escalation_level, updated_at, customer_id)
SELECT md5(c.id || g)::uuid::text, c.version, c.title, c.status, c.priority, c.customer_name,
       c.customer_email, c.assignee, c.sla_deadline, c.escalation_level, c.updated_at, c.customer_id
FROM complaints c, generate_series(1, $n) g;
-- Settled notifications only: a PENDING copy would be mailed by the delivery worker.
INSERT INTO notifications (id, complaint_id, event_id, event_type, correlation_id, user_id, step,
                           audience, agent_id, recipient, recipient_name, channel, subject, body,
                           status, attempts, next_attempt_at, last_error, failure_reason,
                           created_at, updated_at, sent_at, failed_at, retracted_at)
SELECT gen_random_uuid(), md5(n.complaint_id || g)::uuid::text, gen_random_uuid(), n.event_type,
       n.correlation_id, n.user_id, n.step, n.audience, n.agent_id, n.recipient,
       n.recipient_name, n.channel, n.subject, n.body, n.status, n.attempts, n.next_attempt_at,
       n.last_error, n.failure_reason, n.created_at, n.updated_at, n.sent_at, n.failed_at,
       n.retracted_at
FROM notifications n, generate_series(1, $n) g WHERE n.status <> 'PENDING';
INSERT INTO outbox (event_id, envelope, published_at)
SELECT gen_random_uuid(), o.envelope, now()
FROM outbox o, generate_series(1, $n) g WHERE o.published_at IS NOT NULL;
SQL
echo "fill-history: done; the projector and the consumers catch up on their own (watch make status)"
