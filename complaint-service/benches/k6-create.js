// POST /api/complaints under load: 20 virtual users for 30 s, each creating complaints back
// to back (no think time). Every request must answer 201.
//
//   BASE_URL=http://127.0.0.1:3005 k6 run complaint-service/benches/k6-create.js
//
// VUS and DURATION override the load; the summary shows p50 (med), p95 and p99.
import http from 'k6/http';
import { check } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:3005';
const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const CATEGORIES = ['billing', 'delivery', 'product', 'service'];

export const options = {
  vus: Number(__ENV.VUS || 20),
  duration: __ENV.DURATION || '30s',
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  thresholds: {
    checks: ['rate==1.0'],
    http_req_failed: ['rate==0'],
  },
};

export default function () {
  const n = `${__VU}-${__ITER}`;
  const body = JSON.stringify({
    title: `Load test complaint ${n}`,
    description: 'My order arrived damaged and the replacement was charged twice.',
    category: CATEGORIES[__ITER % CATEGORIES.length],
    priority: PRIORITIES[__VU % PRIORITIES.length],
    customer: { id: `customer-${__VU}`, name: 'Load Tester', email: `vu${__VU}@example.com` },
  });
  const res = http.post(`${BASE_URL}/api/complaints`, body, {
    // TOKEN: a token that may create complaints (make token ROLE=agent SUB=load; scripts/token.sh).
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${__ENV.TOKEN || ''}` },
    tags: { name: 'POST /api/complaints' },
  });
  check(res, {
    'answered 201': (r) => r.status === 201,
    'carries the version': (r) => r.status === 201 && r.json('version') === 1,
  });
}
