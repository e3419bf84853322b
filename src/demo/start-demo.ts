import type { Logger } from 'pino';
import type { DemoBackend } from '../adapter-contract.ts';
import type { AuthConfigInput } from '../auth/auth-config.ts';
import type { AdapterFactories } from '../config/load-config.ts';
import { validateConfig } from '../config/load-config.ts';
import type { ProviderKind } from '../model.ts';
import { createGateway, type Gateway } from '../server/create-gateway.ts';

export interface Demo {
  readonly gateway: Gateway;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * What the demo tells (NOTIFICATIONS.md "The demo"): every branch breaking, fixed, still failing
 * and canceled, to a log sink the receiver page shows; infrastructure
 * failures of any branch to the same sink under a `platform` rule, as a platform team would route them.
 */
export function demoNotifications(backends: readonly string[]) {
  return {
    sinks: [{ type: 'log', name: 'demo-log', watchable: true }],
    rules: [
      // Every branch, not only the default one (a rule's default): the simulators spread their runs over
      // many branches, and a newcomer should see a failed and a fixed within a minute.
      { name: 'branches', match: { backends: [...backends], branches: ['*'] }, on: ['failed', 'fixed', 'still-failing', 'canceled'], stillFailingEveryMinutes: 10, sinks: ['demo-log'] },
      // Named backends: not a match-everything rule, so no warning at the demo's start.
      { name: 'platform', match: { backends: [...backends], branches: ['*'] }, on: ['failed', 'still-failing'], route: { infrastructure: ['demo-log'] } },
    ],
  };
}

/**
 * Demo mode, the embedded default: every provider that ships a simulator gets
 * one on loopback, the gateway is configured to read from them, and the
 * simulators start a steady flow of signed webhooks into it.
 */
export async function startDemo(options: {
  factories: AdapterFactories;
  port: number;
  host?: string;
  log?: Logger;
  seed?: number;
  logLevel?: 'info' | 'warn' | 'silent' | 'debug';
  /** Default `{ mode: 'open' }`; tests turn authentication on to drive the real login path. */
  auth?: AuthConfigInput;
  /** The `metrics` section (default: on at /metrics, as in any config). */
  metrics?: Record<string, unknown>;
}): Promise<Demo> {
  const demos: { name: string; provider: ProviderKind; demo: DemoBackend }[] = [];
  for (const [provider, factory] of Object.entries(options.factories)) {
    if (!factory.createDemo) continue;
    const demo = await factory.createDemo(options.seed === undefined ? {} : { seed: options.seed });
    demos.push({ name: `${provider}-demo`, provider, demo });
  }
  const config = validateConfig(
    {
      // Demo data changes every few seconds; keep caches short so GraphiQL feels live.
      freshnessSeconds: 5,
      logLevel: options.logLevel ?? 'info',
      server: { port: options.port, host: options.host ?? '0.0.0.0' },
      // Demo mode runs open (and says so loudly at start-up): it serves only simulated data.
      // Its simulators may be acted on by anyone (ACTIONS.md): nothing real is cancelled or started.
      auth: options.auth ?? { mode: 'open', anonymousActions: ['*'] },
      audit: { file: null },
      ...(options.metrics ? { metrics: options.metrics } : {}),
      // The simulators' past is imported at start: they are local, so no budget needs to hold it back.
      history: { backfill: { requestsPerMinute: 60_000 } },
      backends: demos.map((d) => ({ name: d.name, provider: d.provider, ...d.demo.options })),
      notifications: demoNotifications(demos.map((d) => d.name)),
    },
    options.factories,
    'demo mode',
  );
  const gateway = createGateway({ config, factories: options.factories, demo: true, ...(options.log ? { log: options.log } : {}) });
  const { port, url } = await gateway.listen();
  for (const d of demos) d.demo.start(`http://127.0.0.1:${port}/webhooks/${d.name}`);
  return {
    gateway, url, port,
    async close() {
      // The gateway first: its polls end cleanly instead of failing against simulators already gone.
      await gateway.close();
      await Promise.allSettled(demos.map((d) => d.demo.stop()));
    },
  };
}
