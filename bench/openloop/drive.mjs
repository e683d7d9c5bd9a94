// Open-loop latency (bench/README.md): requests sent at a fixed overall rate by autocannon (its overallRate), however
// fast the answers come, so that latency is measured at a stated load rather than at saturation. Each answer's own
// response time is kept (autocannon's summary rounds to whole milliseconds) and p50/p99 computed from them.
// Usage: node drive.mjs URL get|token|create RATE SECONDS
//   env: BENCH_TOKEN (user token), BENCH_GET_PATH, BENCH_TOKEN_BODY, BENCH_FIRST (creates bind users b0<n> from n = BENCH_FIRST + 1)
// Prints: RESULT rate=<asked> achieved=<req/s> p50=<ms> p99=<ms> errors=<non-2xx + errors> requests=<n>
import autocannon from 'autocannon';

const [url, kind, rate, seconds] = process.argv.slice(2);
const bearer = { Authorization: `Bearer ${process.env.BENCH_TOKEN}` };
let next = Number(process.env.BENCH_FIRST ?? '0');
const requests = {
  get: [{ method: 'GET', path: process.env.BENCH_GET_PATH, headers: bearer }],
  token: [{ method: 'POST', path: '/open-apis/auth/v3/tenant_access_token/internal', headers: { 'Content-Type': 'application/json' }, body: process.env.BENCH_TOKEN_BODY }],
  create: [{
    method: 'POST', path: '/open-apis/calendar/v4/exchange_bindings?user_id_type=user_id',
    headers: { ...bearer, 'Content-Type': 'application/json' },
    setupRequest: request => {
      next += 1;
      const n = String(next).padStart(7, '0');
      return { ...request, body: JSON.stringify({ admin_account: 'email_admin_example@outlook.com', exchange_account: `bench0-${next}@bench.example`, user_id: `b0${n}` }) };
    },
  }],
}[kind];
if (!requests) throw new Error(`unknown kind ${kind}`);

const times = [];
let failed = 0;
// Enough connections that a slow answer never holds back the schedule (autocannon spreads the rate over them).
const instance = autocannon({ url, connections: 64, duration: Number(seconds), overallRate: Number(rate), requests });
instance.on('response', (client, statusCode, bytes, responseTime) => {
  times.push(responseTime);
  if (statusCode < 200 || statusCode >= 300) failed += 1;
});
instance.on('done', result => {
  times.sort((a, b) => a - b);
  const at = q => times.length ? times[Math.min(times.length - 1, Math.floor(q * times.length))] : NaN;
  const achieved = times.length / Number(seconds);
  console.log(`RESULT rate=${rate} achieved=${achieved.toFixed(1)} p50=${at(0.5).toFixed(3)} p99=${at(0.99).toFixed(3)} errors=${failed + result.errors + result.timeouts} requests=${times.length}`);
});
