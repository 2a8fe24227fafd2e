// Load on the command side and the event pipeline behind it.
//
// Scenario `create`: complaints filed as fast as VUS virtual users can (default 20 VUs for
// 30 s: the POST create throughput and latency of issue 3), or, with RATE set, at a steady
// RATE commands/s (e.g. RATE=200 DURATION=60s for issue 6's propagation figure).
// Scenario `propagation`: meanwhile, 2 complaints/s are followed downstream: the time from the
// create's answer until COMPLAINT_CREATED is in the event store, the audit trail and the
// notification history (propagation_*_ms; polled every 100 ms, so ± 0.1 s). FOLLOW_RATE sets
// how many are followed per second; FOLLOW_RATE=0 leaves out the scenario, and with it the
// polling, which while a view lags adds reads of its own (10 a second per complaint followed).
//
//   k6 run k6/event-publishing-load.js
//   RATE=200 DURATION=60s k6 run k6/event-publishing-load.js
//   FOLLOW_RATE=0 k6 run k6/event-publishing-load.js
import { check } from 'k6';
import {
  SUMMARY_TREND_STATS, allReady, createComplaint, newComplaintBody, verifyDownstream,
} from './lib/suite.js';

const DURATION = __ENV.DURATION || '30s';
const RATE = Number(__ENV.RATE || 0);
const VUS = Number(__ENV.VUS || 20);
const FOLLOW_RATE = Number(__ENV.FOLLOW_RATE ?? 2);
const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

const create = RATE > 0
  ? { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 10)), maxVUs: Math.max(50, RATE), exec: 'publish' }
  : { executor: 'constant-vus', vus: VUS, duration: DURATION, exec: 'publish' };

const propagation = {
  executor: 'constant-arrival-rate', rate: FOLLOW_RATE, timeUnit: '1s', duration: DURATION,
  preAllocatedVUs: 10, maxVUs: 40, exec: 'follow', startTime: '1s',
};
const propagationThresholds = {
  downstream_ok: ['rate>0.99'],
  propagation_event_store_ms: ['p(95)<5000'],
  propagation_audit_ms: ['p(95)<5000'],
  propagation_notifications_ms: ['p(95)<5000'],
};

export const options = {
  scenarios: FOLLOW_RATE > 0 ? { create, propagation } : { create },
  thresholds: {
    'http_req_duration{name:POST /api/complaints}': ['p(95)<300', 'p(99)<1000'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    ...(FOLLOW_RATE > 0 ? propagationThresholds : {}),
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export function setup() {
  check(allReady(), { 'suite ready': (ok) => ok });
}

export function publish() {
  createComplaint(newComplaintBody(PRIORITIES[__ITER % PRIORITIES.length]));
}

export function follow() {
  const created = createComplaint();
  if (!created) return;
  // The acknowledgement saga: COMPLAINT_CREATED leads to a notification to the complainant.
  verifyDownstream(created.id, ['COMPLAINT_CREATED'], created.createdAt, { notifications: 1 });
}
