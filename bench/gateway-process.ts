/**
 * Benchmark child: one gateway, configured like test/helpers/stack.ts against a
 * GitHub simulator that lives in the parent (load) process, with polling off
 * and logging silent. Prints one JSON line `{"port":N,"pid":N}` on stdout once
 * it listens. Exits on SIGTERM/SIGINT or when its stdin closes (the parent
 * died), so it never outlives the benchmark (bench/lib/child-lifecycle.ts).
 *
 * Input: env BENCH_GATEWAY = JSON { simUrl, token, webhookSecret, config?, statsEveryMs? }.
 * With `statsEveryMs` it also prints a `{"stats":…}` line at that interval
 * (bench/lib/gateway-stats.ts): event-loop delay, RSS and heap, for the soak.
 */
import { pino } from 'pino';
import { adapterFactories } from '../src/adapters.ts';
import { validateConfig } from '../src/config/load-config.ts';
import { createGateway } from '../src/server/create-gateway.ts';
import { serveBenchChild } from './lib/child-lifecycle.ts';
import { reportGatewayStats } from './lib/gateway-stats.ts';

interface ChildInput {
  simUrl: string;
  token: string;
  webhookSecret: string;
  config?: Record<string, unknown>;
  statsEveryMs?: number;
}

const input = JSON.parse(process.env.BENCH_GATEWAY ?? 'null') as ChildInput | null;
if (!input) {
  process.stderr.write('BENCH_GATEWAY is not set\n');
  process.exit(2);
}

const config = validateConfig(
  {
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    // BENCH_METRICS=off: the same run without /metrics and its instrumentation (README "Metrics overhead").
    ...(process.env.BENCH_METRICS === 'off' ? { metrics: { enabled: false } } : {}),
    ...input.config,
    backends: [
      {
        name: 'gh',
        provider: 'github',
        url: input.simUrl,
        token: { value: input.token },
        webhookSecret: { value: input.webhookSecret },
        organizations: ['octo-org'],
        runners: { organizations: ['octo-org'] },
      },
    ],
  },
  adapterFactories,
  'bench',
);
const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });

if (input.statsEveryMs) reportGatewayStats(input.statsEveryMs);
await serveBenchChild({
  listen: async () => (await gateway.listen(0, '127.0.0.1')).port,
  close: () => gateway.close(),
});
