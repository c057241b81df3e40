/**
 * One bounded measurement with autocannon, for bench/run.py: node bench/load.mjs '<json>'
 * where json = { url, scenario, token, itemId, connections, duration or amount, expect }.
 * Prints one JSON line: requests per second, latency percentiles (ms), status counts, errors.
 *
 * Scenarios (the generated API's routes):
 *   me      GET /api/users/me with a valid Bearer token (expects 200)
 *   create  POST /api/items with a valid body (expects 201)
 *   patch   PATCH /api/items/:id of an item the caller owns, done toggled each request (expects 200)
 *   unauth  GET /api/users/me without a token (expects 401)
 */
import autocannon from 'autocannon';

const plan = JSON.parse(process.argv[2]);
const run = `${process.pid}-${Date.now().toString(36)}`;
let sequence = 0;

const scenarios = {
  me: { method: 'GET', path: '/api/users/me', headers: { authorization: `Bearer ${plan.token}` } },
  unauth: { method: 'GET', path: '/api/users/me', headers: {} },
  create: {
    method: 'POST',
    path: '/api/items',
    headers: { authorization: `Bearer ${plan.token}`, 'content-type': 'application/json' },
    setupRequest(request) {
      sequence += 1;
      return { ...request, body: JSON.stringify({ title: `Load ${run} ${sequence}` }) };
    },
  },
  patch: {
    method: 'PATCH',
    path: `/api/items/${plan.itemId}`,
    headers: { authorization: `Bearer ${plan.token}`, 'content-type': 'application/json' },
    setupRequest(request) {
      sequence += 1;
      return { ...request, body: JSON.stringify({ done: sequence % 2 === 0 }) };
    },
  },
};
const scenario = scenarios[plan.scenario];
if (!scenario) throw new Error(`unknown scenario ${plan.scenario}`);

const result = await autocannon({
  url: plan.url,
  connections: plan.connections,
  // A number of requests instead of seconds (bench/instructions.py counts per request).
  ...(plan.amount ? { amount: plan.amount } : { duration: plan.duration }),
  timeout: 10,
  requests: [scenario],
});
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]));
const completed = Object.values(statuses).reduce((sum, count) => sum + count, 0);
const unexpected = completed - (statuses[String(plan.expect)] ?? 0);
process.stdout.write(
  `${JSON.stringify({
    rps: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed,
    statuses,
    unexpected,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
  })}\n`,
);
