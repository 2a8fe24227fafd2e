// Stress on the choreographed sagas: many complaints moving through their lifecycle at once,
// a share of them assigned to an agent who cannot be notified (the assignment saga must
// compensate: COMPLAINT_COMPENSATION_REQUIRED, then the assignment reverted, back to OPEN).
//
// Each iteration verifies the outcome through the public APIs, not just HTTP statuses:
// - happy path: create, assign to a known agent, process, resolve, close; the events are in
//   the event store and the audit trail, the assignee and complainant were notified;
// - compensation: the complaint is OPEN again, its saga COMPENSATED, and the compensation
//   events reached the event store and the audit trail.
// saga_completion_ms / saga_compensation_ms: from the last command's answer to that outcome.
//
//   k6 run k6/saga-coordination-stress.js          (VUS=10 DURATION=30s UNKNOWN_SHARE=0.2)
import { check } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import {
  AGENTS, SUMMARY_TREND_STATS, allReady, command, createComplaint, getComplaint, sagaReaches,
  sagasOf, verifyDownstream, waitFor,
} from './lib/suite.js';

const VUS = Number(__ENV.VUS || 10);
const DURATION = __ENV.DURATION || '30s';
const UNKNOWN_SHARE = Number(__ENV.UNKNOWN_SHARE || 0.2);

const sagaCompletion = new Trend('saga_completion_ms', true);
const sagaCompensation = new Trend('saga_compensation_ms', true);
const sagaOk = new Rate('saga_outcome_ok');

export const options = {
  scenarios: {
    sagas: { executor: 'constant-vus', vus: VUS, duration: DURATION, gracefulStop: '30s' },
  },
  thresholds: {
    'http_req_duration{name:PUT /api/complaints/{id}/assign}': ['p(95)<500'],
    'http_req_duration{name:POST /api/complaints}': ['p(95)<500'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    saga_outcome_ok: ['rate>0.99'],
    downstream_ok: ['rate>0.99'],
    saga_compensation_ms: ['p(95)<10000'],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export function setup() {
  check(allReady(), { 'suite ready': (ok) => ok });
}

export default function () {
  if (Math.random() < UNKNOWN_SHARE) compensated();
  else completed();
}

function completed() {
  const created = createComplaint();
  if (!created) return;
  const { id } = created;
  const agent = AGENTS[(__VU + __ITER) % AGENTS.length];
  command(id, 'assign', { agentId: agent });
  command(id, 'process');
  command(id, 'resolve', { resolution: 'Replacement shipped by express courier.' });
  const closed = command(id, 'close');
  const since = Date.now();
  const done = waitFor(() => {
    const sagas = sagasOf(id).filter((s) => s.kind === 'ACKNOWLEDGEMENT' || s.kind === 'ASSIGNMENT');
    return sagas.length >= 2 && sagas.every((s) => s.status === 'COMPLETED') ? sagas : null;
  });
  if (done) sagaCompletion.add(Date.now() - since);
  const ok = check(null, {
    'happy path: closed': () => closed !== null,
    'happy path: acknowledgement and assignment sagas COMPLETED': () => done !== null,
  });
  sagaOk.add(ok);
  // acknowledgement to the complainant + assignment to the agent and the complainant
  verifyDownstream(id, ['COMPLAINT_CREATED', 'COMPLAINT_ASSIGNED', 'COMPLAINT_CLOSED'], since, { notifications: 2 });
}

function compensated() {
  const created = createComplaint();
  if (!created) return;
  const { id } = created;
  command(id, 'assign', { agentId: `ghost-${__VU}-${__ITER}` });
  const since = Date.now();
  const reverted = waitFor(() => {
    const view = getComplaint(id);
    return view && view.status === 'OPEN' && !view.assignee && view.version >= 4 ? view : null;
  });
  if (reverted) sagaCompensation.add(Date.now() - since);
  const compensatedSaga = sagaReaches(id, 'ASSIGNMENT', 'COMPENSATED', 5);
  const ok = check(null, {
    'compensation: assignment reverted (OPEN, no assignee)': () => reverted !== null,
    'compensation: saga COMPENSATED': () => compensatedSaga !== null,
  });
  sagaOk.add(ok);
  verifyDownstream(id, ['COMPLAINT_COMPENSATION_REQUIRED', 'COMPLAINT_ASSIGNMENT_REVERTED'], since);
}
