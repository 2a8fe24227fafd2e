// What every k6 script of the suite shares: where the services are, a small client for their
// REST APIs, and polling for downstream effects (an event reaching the event store, the audit
// trail, the notification history).
//
// Base URLs come from the environment, defaulting to the local ports of DESIGN.md:
//   COMPLAINTS_URL (3005) NOTIFICATIONS_URL (3006) AUDIT_URL (3007) EVENTS_URL (3008)
// or, to go through Kong, GATEWAY_URL=http://localhost:8000 (Kong checks the same TOKEN).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';

const gateway = __ENV.GATEWAY_URL;
const base = (name, port) => (gateway || __ENV[name] || `http://127.0.0.1:${port}`).replace(/\/$/, '');

export const urls = {
  complaints: base('COMPLAINTS_URL', 3005),
  notifications: base('NOTIFICATIONS_URL', 3006),
  audit: base('AUDIT_URL', 3007),
  events: base('EVENTS_URL', 3008),
};
// Operations endpoints are not routed by Kong: probes always go to the services directly.
const direct = {
  complaints: (__ENV.COMPLAINTS_URL || 'http://127.0.0.1:3005').replace(/\/$/, ''),
  notifications: (__ENV.NOTIFICATIONS_URL || 'http://127.0.0.1:3006').replace(/\/$/, ''),
  audit: (__ENV.AUDIT_URL || 'http://127.0.0.1:3007').replace(/\/$/, ''),
  events: (__ENV.EVENTS_URL || 'http://127.0.0.1:3008').replace(/\/$/, ''),
};

// How long a downstream effect may take before it counts as missing (DOWNSTREAM_TIMEOUT_S;
// a script may lower the default: `downstream.timeoutS = 8`).
export const downstream = { timeoutS: Number(__ENV.DOWNSTREAM_TIMEOUT_S || 15) };
const POLL_INTERVAL_S = 0.1;

export const downstreamOk = new Rate('downstream_ok');
export const toEventStore = new Trend('propagation_event_store_ms', true);
export const toAudit = new Trend('propagation_audit_ms', true);
export const toNotifications = new Trend('propagation_notifications_ms', true);
export const downstreamMissing = new Counter('downstream_missing');

// 4xx answers a script expects are not failures: 409 (a refused transition, checked by the
// scripts) and 404 (a stream polled before its first event arrived).
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }, 404, 409));

export const AGENTS = ['agent-001', 'agent-002', 'agent-003'];

function uuid() {
  // RFC 4122 v4 from Math.random: fine for correlation ids and test data.
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

export function headers(extra = {}) {
  const h = { 'Content-Type': 'application/json', 'X-Correlation-ID': uuid() };
  // Every service wants a bearer token: TOKEN=$(make -s token ROLE=customer,agent,supervisor,auditor,admin SUB=k6 | tail -1)
  if (__ENV.TOKEN) h.Authorization = `Bearer ${__ENV.TOKEN}`;
  return Object.assign(h, extra);
}

function json(response) {
  try {
    return response.json();
  } catch (_) {
    return null;
  }
}

// A list out of a paged or bare JSON answer: [..], {items|events|entries|data|notifications: [..]}.
export function listOf(body) {
  if (Array.isArray(body)) return body;
  if (!body || typeof body !== 'object') return [];
  for (const key of ['items', 'events', 'entries', 'sagas', 'data', 'notifications', 'results', 'agents']) {
    if (Array.isArray(body[key])) return body[key];
  }
  return [];
}

const eventTypeOf = (e) => e.eventType || e.event_type || e.type;

// ---- complaint-service ---------------------------------------------------------------------

let counter = 0;
export function newComplaintBody(priority = 'MEDIUM') {
  counter += 1;
  // __VU is 0 and __ITER undefined in setup(); the random part keeps runs apart.
  const iter = typeof __ITER === 'undefined' ? 's' : __ITER;
  const who = `k6-${__VU}-${iter}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    title: `Parcel never arrived (${who})`,
    description: 'Ordered three weeks ago, tracking has not moved since the first day.',
    category: 'late-delivery',
    priority,
    customer: { id: `cust-${who}`, name: 'Camille Petit', email: `camille.${who}@example.com` },
  };
}

export function createComplaint(body = newComplaintBody()) {
  const response = http.post(`${urls.complaints}/api/complaints`, JSON.stringify(body), {
    headers: headers({ 'Idempotency-Key': uuid() }),
    tags: { name: 'POST /api/complaints' },
  });
  const result = json(response);
  const ok = check(response, {
    'create: 201': (r) => r.status === 201,
    'create: has id and version 1': () => result && result.id && result.version === 1,
  });
  return ok ? { id: result.id, version: result.version, createdAt: Date.now() } : null;
}

export function command(id, action, body = {}, expectStatus = 200) {
  const response = http.put(`${urls.complaints}/api/complaints/${id}/${action}`, JSON.stringify(body), {
    headers: headers(),
    tags: { name: `PUT /api/complaints/{id}/${action}` },
  });
  const result = json(response);
  check(response, { [`${action}: ${expectStatus}`]: (r) => r.status === expectStatus });
  return response.status === expectStatus ? result : null;
}

export function getComplaint(id, minVersion) {
  const query = minVersion ? `?minVersion=${minVersion}` : '';
  const response = http.get(`${urls.complaints}/api/complaints/${id}${query}`, {
    headers: headers(),
    tags: { name: 'GET /api/complaints/{id}' },
  });
  return response.status === 200 ? json(response) : null;
}

// The complaint's sagas (kind ACKNOWLEDGEMENT, ASSIGNMENT or ESCALATION; status RUNNING,
// COMPLETED, FAILED, COMPENSATING or COMPENSATED), as complaint-service keeps them.
export function sagasOf(id) {
  const response = http.get(`${urls.complaints}/api/complaints/${id}/sagas`, {
    headers: headers(), tags: { name: 'GET /api/complaints/{id}/sagas' },
  });
  return response.status === 200 ? listOf(json(response)) : [];
}

// Polls until the complaint's saga of `kind` has `status`; returns the saga or null.
export function sagaReaches(id, kind, status, timeoutS) {
  const found = waitFor(() => sagasOf(id).find((s) => s.kind === kind && s.status === status), timeoutS);
  return found ? found.value : null;
}

// ---- downstream ----------------------------------------------------------------------------

// Polls `probe` until it returns a truthy value or the timeout passes; returns the value and
// how long it took (ms), or null.
export function waitFor(probe, timeoutS = downstream.timeoutS) {
  const started = Date.now();
  while ((Date.now() - started) / 1000 < timeoutS) {
    const value = probe();
    if (value) return { value, ms: Date.now() - started };
    sleep(POLL_INTERVAL_S);
  }
  return null;
}

// The event store keys a complaint's stream as `Complaint-<id>` (event-store-service placement.rs).
export const complaintStream = (id) => `Complaint-${id}`;

// The complaint's events in the event store, in the order served ([] while there are none).
export function eventStoreStream(id) {
  const response = http.get(`${urls.events}/api/events/stream/${complaintStream(id)}`, {
    headers: headers(),
    tags: { name: 'GET /api/events/stream/{streamId}' },
  });
  return response.status === 200 ? listOf(json(response)) : [];
}

export function auditTrail(id) {
  const response = http.get(`${urls.audit}/api/audit/trail/${id}`, {
    headers: headers(),
    tags: { name: 'GET /api/audit/trail/{aggregateId}' },
  });
  return response.status === 200 ? listOf(json(response)) : [];
}

export function notificationHistory(id) {
  const response = http.get(`${urls.notifications}/api/notifications?complaintId=${id}`, {
    headers: headers(),
    tags: { name: 'GET /api/notifications' },
  });
  return response.status === 200 ? listOf(json(response)) : [];
}

const hasAll = (entries, types) => {
  const seen = new Set(entries.map(eventTypeOf));
  return types.every((t) => seen.has(t));
};

// Waits until the complaint's events of `types` are in the event store (stream in version
// order, no gap) and in the audit trail, and, with `notifications: n`, until its notification
// history has n entries; all polled in turn, each timed from `since` (ms since epoch, e.g. when
// the command's answer arrived) to when it was first seen.
export function verifyDownstream(id, types, since = Date.now(), { notifications = 0 } = {}) {
  let events = null;
  let audited = false;
  let notified = notifications === 0;
  const pending = () => events === null || !audited || !notified;
  const started = Date.now();
  while (pending() && (Date.now() - started) / 1000 < downstream.timeoutS) {
    if (events === null) {
      const stream = eventStoreStream(id);
      if (hasAll(stream, types)) {
        events = stream;
        toEventStore.add(Date.now() - since);
      }
    }
    if (!audited && hasAll(auditTrail(id), types)) {
      audited = true;
      toAudit.add(Date.now() - since);
    }
    if (!notified && notificationHistory(id).length >= notifications) {
      notified = true;
      toNotifications.add(Date.now() - since);
    }
    if (pending()) sleep(POLL_INTERVAL_S);
  }
  const ordered =
    events !== null && events.every((e, i, all) => i === 0 || versionOf(e) === versionOf(all[i - 1]) + 1);
  const verdicts = {
    'event store: has the events': () => events !== null,
    'event store: stream in version order, no gap': () => ordered,
    'audit trail: has the events': () => audited,
  };
  if (notifications > 0) verdicts[`notifications: at least ${notifications} sent`] = () => notified;
  const ok = check(null, verdicts);
  downstreamOk.add(ok);
  if (!ok) downstreamMissing.add(1);
  return ok;
}

function versionOf(e) {
  if (typeof e.version === 'number') return e.version;
  return e.metadata && typeof e.metadata.version === 'number' ? e.metadata.version : NaN;
}

// ---- probes ----------------------------------------------------------------------------------

export function allReady() {
  const results = Object.entries(direct).map(([name, url]) => {
    const r = http.get(`${url}/ready`, { tags: { name: 'GET /ready' } });
    return check(r, { [`${name} ready`]: (res) => res.status === 200 });
  });
  return results.every(Boolean);
}

// Trend stats every script reports (bench.sh reads p(50), p(95), p(99)).
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
