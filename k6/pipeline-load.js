// The load of the pipeline benchmark (scripts/ops/bench-pipeline.sh): paced creates through
// the public API, RATE per second for SECONDS, and a share of them (LIFECYCLE_SHARE, default
// 0.1) taken through the whole lifecycle (assign to a known agent, process, resolve, close)
// right after their create. Each created complaint is written to the console output
// (`--console-output`) as one JSON line with the version it reached, for the benchmark to
// follow it downstream.
//
//   RATE=300 SECONDS=120 k6 run --console-output=ids.log k6/pipeline-load.js
import { AGENTS, SUMMARY_TREND_STATS, command, createComplaint, newComplaintBody } from './lib/suite.js';

const RATE = Number(__ENV.RATE || 100);
const SECONDS = Number(__ENV.SECONDS || 60);
const LIFECYCLE_SHARE = Number(__ENV.LIFECYCLE_SHARE || 0.1);

export const options = {
  scenarios: {
    creates: {
      executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: `${SECONDS}s`,
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 10)), maxVUs: Math.max(50, RATE),
    },
  },
  // A threshold names the create's latency so the summary export keeps it; the benchmark
  // reports the figures, it does not judge them.
  thresholds: { 'http_req_duration{name:POST /api/complaints}': ['p(99)<60000'] },
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export default function () {
  const created = createComplaint(newComplaintBody('MEDIUM'));
  if (!created) return;
  let version = created.version;
  if (Math.random() < LIFECYCLE_SHARE) {
    const agentId = AGENTS[Math.floor(Math.random() * AGENTS.length)];
    const steps = [['assign', { agentId }], ['process', {}],
      ['resolve', { resolution: 'Refunded the second debit.' }], ['close', {}]];
    for (const [action, body] of steps) {
      const done = command(created.id, action, body);
      if (!done) break;
      version = done.version;
    }
  }
  // The version the complaint reached: how many events each view must show.
  console.log(JSON.stringify({ id: created.id, version }));
}
