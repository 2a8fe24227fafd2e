// Smoke test of the running suite (< 30 s): a few complaints through their whole lifecycle,
// each verified where it must end up: the event store (stream and rebuilt state), the audit
// trail and the notification history; one assignment to an unknown agent, which the
// assignment saga must compensate; one replay. Run by scripts/ops/check.sh:
//   k6 run k6/smoke.js     (base URLs: see k6/lib/suite.js)
import http from 'k6/http';
import { check, fail } from 'k6';
import {
  SUMMARY_TREND_STATS, allReady, command, complaintStream, createComplaint, downstream, getComplaint,
  headers, listOf, sagaReaches, urls, verifyDownstream, waitFor,
} from './lib/suite.js';

export const options = {
  scenarios: {
    // A healthy suite takes a few seconds; the cap lets a failing one still report every check.
    smoke: { executor: 'shared-iterations', vus: 1, iterations: Number(__ENV.ITERATIONS || 3), maxDuration: '45s' },
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<500'],
    'http_req_duration{name:POST /api/complaints}': ['p(95)<300'],
    downstream_ok: ['rate==1'],
    propagation_event_store_ms: ['p(95)<5000'],
    propagation_audit_ms: ['p(95)<5000'],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// A healthy suite propagates in well under a second; a broken one should fail the smoke fast.
if (!__ENV.DOWNSTREAM_TIMEOUT_S) downstream.timeoutS = 6;

const LIFECYCLE = [
  'COMPLAINT_CREATED', 'COMPLAINT_ASSIGNED', 'COMPLAINT_PROCESSED', 'COMPLAINT_RESOLVED', 'COMPLAINT_CLOSED',
];

export function setup() {
  if (!allReady()) fail('a service is not ready: start the suite first (make up)');
  const agents = listOf(http.get(`${urls.notifications}/api/agents`, { headers: headers(), tags: { name: 'GET /api/agents' } }).json());
  check(agents, { 'agent directory is not empty': (a) => a.length > 0 });
}

export default function () {
  const created = createComplaint();
  if (!created) return;
  const { id } = created;

  check(getComplaint(id, 1), { 'read your write: OPEN at version 1': (c) => c && c.status === 'OPEN' && c.version === 1 });
  command(id, 'assign', { agentId: 'agent-001' });
  command(id, 'process');
  command(id, 'resolve', { resolution: 'Refunded in full and apologised.' });
  const closed = command(id, 'close');
  const since = Date.now();
  check(closed, { 'closed at version 5': (r) => r && r.status === 'CLOSED' && r.version === 5 });
  // A refused transition is a 409 with the JSON error body, never a 500.
  command(id, 'process', {}, 409);

  // acknowledgement (complainant) + assignment (agent and complainant) at least
  verifyDownstream(id, LIFECYCLE, since, { notifications: 2 });
  check(sagaReaches(id, 'ASSIGNMENT', 'COMPLETED'), { 'sagas: the assignment saga is COMPLETED': (saga) => saga !== null });
  const state = http.get(`${urls.events}/api/events/state/${id}`, { headers: headers(), tags: { name: 'GET /api/events/state/{aggregateId}' } });
  check(state, {
    'event store: rebuilt state is CLOSED at version 5': (r) =>
      r.status === 200 && r.json().version === 5 && r.json().state.status === 'CLOSED',
  });

  if (__ITER === 0) {
    compensation();
    replay(id);
    const verify = http.get(`${urls.audit}/api/audit/verify`, { headers: headers(), tags: { name: 'GET /api/audit/verify' } });
    check(verify, { 'audit: the hash chain verifies': (r) => r.status === 200 && r.json().valid === true });
  }
}

// Assigning an agent who cannot be notified: the saga reverts the assignment (back to OPEN).
function compensation() {
  const created = createComplaint();
  if (!created) return;
  command(created.id, 'assign', { agentId: 'agent-does-not-exist' });
  const reverted = waitFor(() => {
    const view = getComplaint(created.id);
    return view && view.status === 'OPEN' && view.version >= 4 ? view : null;
  });
  check(reverted, { 'compensation: unknown assignee reverted, complaint OPEN again': (r) => r !== null });
  verifyDownstream(created.id, ['COMPLAINT_ASSIGNED', 'COMPLAINT_COMPENSATION_REQUIRED', 'COMPLAINT_ASSIGNMENT_REVERTED']);
  check(sagaReaches(created.id, 'ASSIGNMENT', 'COMPENSATED'), {
    'sagas: the assignment saga is COMPENSATED': (saga) => saga !== null,
  });
}

function replay(id) {
  const target = `k6-smoke-replay-${Date.now()}`;
  const r = http.post(`${urls.events}/api/events/replay/${complaintStream(id)}`, JSON.stringify({ redisStream: target }), {
    headers: headers(), tags: { name: 'POST /api/events/replay/{streamId}' },
  });
  check(r, { 'replay: 5 events re-published': (res) => res.status === 200 && res.json().count === 5 });
}
