/**
 * Benchmark child for the query-load and upstream-economy scenarios: one
 * gateway whose whole config (backends included) comes from the parent, so it
 * can serve several simulated backends (GitHub + GitLab) that live in the
 * parent process. Log level silent, audit off, auth open.
 *
 * Same protocol as bench/gateway-process.ts: prints `{"port":N,"pid":N}` on
 * stdout once it listens; exits on SIGTERM/SIGINT or when stdin closes.
 *
 * Input: env BENCH_GATEWAY = JSON { config: { ...gateway config, backends, benchPolling? } }.
 * `benchPolling: true` starts the poll scheduler (the production default);
 * otherwise polling is off, as in bench/gateway-process.ts.
 */
import { pino } from 'pino';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createGateway } from '../../src/server/create-gateway.ts';
import { serveBenchChild } from './child-lifecycle.ts';

const input = JSON.parse(process.env.BENCH_GATEWAY ?? 'null') as { config?: Record<string, unknown> } | null;
if (!input?.config) {
  process.stderr.write('BENCH_GATEWAY with a config is not set\n');
  process.exit(2);
}
const { benchPolling, ...raw } = input.config;

const config = validateConfig(
  {
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    // BENCH_METRICS=off: the same run without /metrics and its instrumentation (README "Metrics overhead").
    ...(process.env.BENCH_METRICS === 'off' ? { metrics: { enabled: false } } : {}),
    ...raw,
  },
  adapterFactories,
  'bench',
);
const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: benchPolling === true });

await serveBenchChild({
  listen: async () => (await gateway.listen(0, '127.0.0.1')).port,
  close: () => gateway.close(),
});
