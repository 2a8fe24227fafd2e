// Read load on the event store: streams by version, the global log by cursor, state rebuilt
// with the shared `evolve` (also at an earlier version), and replays.
//
// setup() files STREAMS complaints through several transitions and waits until each stream
// is complete in the event store. Every read then verifies what it got: a stream is ordered by
// version with no gap, `all` pages never repeat a position, the rebuilt state has the status
// the complaint-service read model shows.
//
//   k6 run k6/event-store-performance.js       (VUS=10 DURATION=30s STREAMS=20)
// Note: locally MongoDB is the nx-27017 stand-in (no index use; DESIGN.md), so these figures
// say more about the stand-in than about the service.
import http from 'k6/http';
import { check, fail } from 'k6';
import {
  SUMMARY_TREND_STATS, allReady, command, complaintStream, createComplaint, eventStoreStream,
  headers, listOf, urls, waitFor,
} from './lib/suite.js';

const VUS = Number(__ENV.VUS || 10);
const DURATION = __ENV.DURATION || '30s';
const STREAMS = Number(__ENV.STREAMS || 20);

export const options = {
  setupTimeout: '120s',
  scenarios: {
    reads: { executor: 'constant-vus', vus: VUS, duration: DURATION, exec: 'reads' },
    replays: { executor: 'constant-arrival-rate', rate: 2, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: 4, maxVUs: 10, exec: 'replays' },
  },
  thresholds: {
    'http_req_duration{name:GET /api/events/stream/{streamId}}': ['p(95)<500'],
    'http_req_duration{name:GET /api/events/all}': ['p(95)<1000'],
    'http_req_duration{name:GET /api/events/state/{aggregateId}}': ['p(95)<500'],
    'http_req_duration{name:POST /api/events/replay/{streamId}}': ['p(95)<1000'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// Each stream: CREATED, ASSIGNED, PROCESSED, RESOLVED, then (every other one) CLOSED.
export function setup() {
  if (!allReady()) fail('a service is not ready');
  const streams = [];
  for (let i = 0; i < STREAMS; i += 1) {
    const created = createComplaint();
    if (!created) fail('cannot create complaints');
    command(created.id, 'assign', { agentId: 'agent-002' });
    command(created.id, 'process');
    command(created.id, 'resolve', { resolution: 'Fixed.' });
    const closed = i % 2 === 0;
    if (closed) command(created.id, 'close');
    streams.push({ id: created.id, version: closed ? 5 : 4, status: closed ? 'CLOSED' : 'RESOLVED' });
  }
  for (const s of streams) {
    if (!waitFor(() => eventStoreStream(s.id).length >= s.version, 60)) fail(`stream ${s.id} incomplete after 60 s`);
  }
  return { streams };
}

const pick = (streams) => streams[Math.floor(Math.random() * streams.length)];
const versionOf = (e) => (typeof e.version === 'number' ? e.version : e.metadata && e.metadata.version);

export function reads(data) {
  const s = pick(data.streams);
  const stream = http.get(`${urls.events}/api/events/stream/${complaintStream(s.id)}`, {
    headers: headers(), tags: { name: 'GET /api/events/stream/{streamId}' },
  });
  const events = listOf(stream.json());
  check(events, {
    'stream: complete': (e) => e.length === s.version,
    'stream: versions 1..n in order': (e) => e.every((x, i) => versionOf(x) === i + 1),
  });

  const state = http.get(`${urls.events}/api/events/state/${s.id}`, {
    headers: headers(), tags: { name: 'GET /api/events/state/{aggregateId}' },
  });
  check(state, {
    'state: rebuilt status and version match': (r) =>
      r.status === 200 && r.json().state.status === s.status && r.json().version === s.version,
  });

  const earlier = http.get(`${urls.events}/api/events/state/${s.id}?atVersion=2`, {
    headers: headers(), tags: { name: 'GET /api/events/state/{aggregateId}' },
  });
  check(earlier, { 'state at version 2: ASSIGNED': (r) => r.status === 200 && r.json().state.status === 'ASSIGNED' });

  // Two consecutive pages of the global log: positions strictly increase across both.
  const first = http.get(`${urls.events}/api/events/all?limit=50`, {
    headers: headers(), tags: { name: 'GET /api/events/all' },
  }).json();
  const second = http.get(`${urls.events}/api/events/all?limit=50&after=${first.nextAfter}`, {
    headers: headers(), tags: { name: 'GET /api/events/all' },
  }).json();
  const positions = listOf(first).concat(listOf(second)).map((e) => e.position);
  check(positions, {
    'all: a page of events': (p) => p.length > 0,
    'all: positions strictly increase, none repeated': (p) => p.every((x, i) => i === 0 || x > p[i - 1]),
  });
}

export function replays(data) {
  const s = pick(data.streams);
  const r = http.post(`${urls.events}/api/events/replay/${complaintStream(s.id)}`,
    JSON.stringify({ redisStream: `k6-replay-${__VU}` }),
    { headers: headers(), tags: { name: 'POST /api/events/replay/{streamId}' } });
  check(r, { 'replay: every event of the stream': (res) => res.status === 200 && res.json().count === s.version });
}
