// Read load on the event store: streams by version, the global log by cursor, state rebuilt
// with the shared `evolve` (also at an earlier version), and replays.
//
// setup() files STREAMS complaints through several transitions and waits until each stream
// is complete in the event store. Every read then verifies what it got: a stream is ordered by
// version with no gap, `all` pages never repeat a position, the rebuilt state has the status
// the complaint-service read model shows.
//
//   k6 run k6/event-store-performance.js       (VUS=10 DURATION=30s STREAMS=20)
//
// SEED=log takes the STREAMS complaints from the event store instead (the first complaint
// lifecycles of the log, e.g. those `ingest-bench` stores), with the status each stream's
// events say: only the event store needs to run.
//
// MODE=latency measures the reads of issue 12 one at a time (one VU, ITERATIONS rounds): a
// stream, a state (now, atVersion, asOf), a page of 100 of the log, its filters by event type
// (EVENT_TYPE, default SAGA_STARTED), correlation id and aggregate id, a one-hour time range
// and `from=2000-01-01`, statistics
// (every 40th round, so that most are counted afresh: they are reused for 5 s), and a replay
// of REPLAY_STREAM (default the 1,000-event `Complaint-bench-stream` of ingest-bench, every
// 10th round). Its thresholds are the targets (p99).
//
//   SEED=log MODE=latency EVENTS_URL=http://127.0.0.1:3108 k6 run k6/event-store-performance.js
import http from 'k6/http';
import { check, fail } from 'k6';
import {
  SUMMARY_TREND_STATS, allReady, command, complaintStream, createComplaint, eventStoreStream,
  headers, listOf, urls, waitFor,
} from './lib/suite.js';

const VUS = Number(__ENV.VUS || 10);
const DURATION = __ENV.DURATION || '30s';
const STREAMS = Number(__ENV.STREAMS || 20);
const SEED = __ENV.SEED || 'complaints';
const MODE = __ENV.MODE || 'load';
const ITERATIONS = Number(__ENV.ITERATIONS || 300);
const REPLAY_STREAM = __ENV.REPLAY_STREAM || 'Complaint-bench-stream';
const EVENT_TYPE = __ENV.EVENT_TYPE || 'SAGA_STARTED';
// Latency mode: statistics every STATISTICS_EVERY rounds, a replay every REPLAY_EVERY (0: never).
const STATISTICS_EVERY = Number(__ENV.STATISTICS_EVERY || 40);
const REPLAY_EVERY = Number(__ENV.REPLAY_EVERY || 10);

const duration = (name) => `http_req_duration{name:${name}}`;
const LATENCY_TARGETS = {
  'GET /api/events/stream/{streamId}': 20,
  'GET /api/events/state/{aggregateId}': 20,
  'GET /api/events/state/{aggregateId} atVersion': 20,
  'GET /api/events/state/{aggregateId} asOf': 20,
  'GET /api/events/all page of 100': 20,
  'GET /api/events/all by eventType': 20,
  'GET /api/events/all by correlationId': 20,
  'GET /api/events/all by aggregateId': 20,
  'GET /api/events/all one hour from to': 50,
  'GET /api/events/all from 2000': 50,
  'GET /api/events/statistics': 500,
  'POST /api/events/replay/{streamId} 1000 events': 1000,
};

const scenarios = MODE === 'latency'
  ? {
    latency: { executor: 'per-vu-iterations', vus: 1, iterations: ITERATIONS, maxDuration: '10m', exec: 'latency' },
  }
  : {
    reads: { executor: 'constant-vus', vus: VUS, duration: DURATION, exec: 'reads' },
    replays: { executor: 'constant-arrival-rate', rate: 2, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: 4, maxVUs: 10, exec: 'replays' },
  };
const measured = (name) => !(name.includes('statistics') && STATISTICS_EVERY === 0)
  && !(name.includes('replay') && REPLAY_EVERY === 0);
const thresholds = MODE === 'latency'
  ? Object.fromEntries(Object.entries(LATENCY_TARGETS).filter(([name]) => measured(name))
    .map(([name, ms]) => [duration(name), [`p(99)<${ms}`]]))
  : {
    [duration('GET /api/events/stream/{streamId}')]: ['p(95)<500'],
    [duration('GET /api/events/all')]: ['p(95)<1000'],
    [duration('GET /api/events/state/{aggregateId}')]: ['p(95)<500'],
    [duration('POST /api/events/replay/{streamId}')]: ['p(95)<1000'],
  };

export const options = {
  setupTimeout: '120s',
  scenarios,
  thresholds: Object.assign(thresholds, { http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// The status a complaint has after an event of each lifecycle type.
const STATUS_AFTER = {
  COMPLAINT_CREATED: 'OPEN',
  COMPLAINT_ASSIGNED: 'ASSIGNED',
  COMPLAINT_PROCESSED: 'IN_PROGRESS',
  COMPLAINT_RESOLVED: 'RESOLVED',
  COMPLAINT_CLOSED: 'CLOSED',
};

// The first STREAMS complaint lifecycles of the log, with what their events say.
function streamsFromLog() {
  const created = http.get(`${urls.events}/api/events/all?eventType=COMPLAINT_CREATED&limit=${STREAMS}`,
    { headers: headers() });
  if (created.status !== 200) fail(`the event store answers ${created.status}`);
  return listOf(created.json()).map((e) => {
    const events = eventStoreStream(e.aggregateId);
    const last = events[events.length - 1];
    return {
      id: e.aggregateId,
      version: events.length,
      status: STATUS_AFTER[last.eventType],
      correlationId: e.metadata.correlationId,
      asOf: events.length > 2 ? events[2].metadata.timestamp : null,
    };
  }).filter((s) => s.status && s.version >= 4);
}

// What the latency rounds range over: the log's first and last timestamps and length.
function logBounds() {
  const stats = http.get(`${urls.events}/api/events/statistics`, { headers: headers() }).json();
  const first = listOf(http.get(`${urls.events}/api/events/all?limit=1`, { headers: headers() }).json())[0];
  const last = listOf(http.get(`${urls.events}/api/events/all?limit=1&after=${stats.lastPosition - 1}`,
    { headers: headers() }).json())[0];
  return {
    lastPosition: stats.lastPosition,
    firstMs: Date.parse(first.metadata.timestamp),
    lastMs: Date.parse(last.metadata.timestamp),
  };
}

// Each stream: CREATED, ASSIGNED, PROCESSED, RESOLVED, then (every other one) CLOSED.
export function setup() {
  if (SEED === 'log') {
    const streams = streamsFromLog();
    if (streams.length === 0) fail('no complaint lifecycle in the event store');
    return { streams, bounds: MODE === 'latency' ? logBounds() : null };
  }
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

const get = (path, name) => http.get(`${urls.events}${path}`, { headers: headers(), tags: { name } });
const randomInt = (n) => Math.floor(Math.random() * n);

// One round of the reads issue 12 sets targets for, one request at a time.
export function latency(data) {
  const s = pick(data.streams);
  const b = data.bounds;
  const ok = (r) => r.status === 200;
  check(get(`/api/events/stream/${complaintStream(s.id)}`, 'GET /api/events/stream/{streamId}'), {
    'stream: complete': (r) => ok(r) && listOf(r.json()).length === s.version,
  });
  check(get(`/api/events/state/${s.id}`, 'GET /api/events/state/{aggregateId}'), {
    'state: status': (r) => ok(r) && r.json().state.status === s.status,
  });
  check(get(`/api/events/state/${s.id}?atVersion=2`, 'GET /api/events/state/{aggregateId} atVersion'), {
    'state at version 2: ASSIGNED': (r) => ok(r) && r.json().state.status === 'ASSIGNED',
  });
  check(get(`/api/events/state/${s.id}?asOf=${encodeURIComponent(s.asOf)}`, 'GET /api/events/state/{aggregateId} asOf'), {
    'state as of its third event: version 3': (r) => ok(r) && r.json().version === 3,
  });
  const after = randomInt(Math.max(1, b.lastPosition - 100));
  check(get(`/api/events/all?after=${after}&limit=100`, 'GET /api/events/all page of 100'), {
    'all: a page of 100': (r) => ok(r) && listOf(r.json()).length === 100,
  });
  check(get(`/api/events/all?eventType=${EVENT_TYPE}&after=${after}&limit=100`, 'GET /api/events/all by eventType'), {
    'all by type: only that type': (r) => ok(r) && listOf(r.json()).every((e) => e.eventType === EVENT_TYPE),
  });
  check(get(`/api/events/all?correlationId=${s.correlationId}`, 'GET /api/events/all by correlationId'), {
    'all by correlation: the lifecycle': (r) => ok(r) && listOf(r.json()).length === s.version,
  });
  check(get(`/api/events/all?aggregateId=${s.id}`, 'GET /api/events/all by aggregateId'), {
    'all by aggregate: the lifecycle': (r) => ok(r) && listOf(r.json()).length === s.version,
  });
  const hour = 3600 * 1000;
  const from = b.firstMs + randomInt(Math.max(1, b.lastMs - b.firstMs - hour));
  const range = `from=${new Date(from).toISOString()}&to=${new Date(from + hour).toISOString()}`;
  check(get(`/api/events/all?${range}&limit=100`, 'GET /api/events/all one hour from to'), {
    'all in an hour: inside it': (r) => ok(r) && listOf(r.json()).every((e) => {
      const t = Date.parse(e.metadata.timestamp);
      return t >= from && t < from + hour;
    }),
  });
  check(get('/api/events/all?from=2000-01-01T00:00:00Z', 'GET /api/events/all from 2000'), {
    'all since 2000: a full page': (r) => ok(r) && listOf(r.json()).length === 100,
  });
  if (STATISTICS_EVERY > 0 && __ITER % STATISTICS_EVERY === 0) {
    check(get('/api/events/statistics', 'GET /api/events/statistics'), {
      'statistics: every event counted': (r) => ok(r) && r.json().lastPosition >= b.lastPosition,
    });
  }
  if (REPLAY_EVERY > 0 && __ITER % REPLAY_EVERY === 0) {
    const r = http.post(`${urls.events}/api/events/replay/${REPLAY_STREAM}`,
      JSON.stringify({ redisStream: 'k6-latency-replay' }),
      { headers: headers(), tags: { name: 'POST /api/events/replay/{streamId} 1000 events' } });
    check(r, { 'replay: 1,000 events': (res) => res.status === 200 && res.json().count === 1000 });
  }
}
