import { randomBytes } from 'node:crypto';
import type { DemoBackend } from '../../src/adapter-contract.ts';
import { createBuildkiteSimulator } from './simulator/index.ts';

/**
 * Demo mode for Buildkite: a simulated organization on loopback with web,
 * api, ios, release and docs pipelines and agents on three queues, seven days
 * of past, and a steady flow of builds with signed webhooks. Reads and writes
 * use separate tokens with Buildkite scopes, fresh each start, as a real setup
 * would have; an iOS build waits at its block step for whoever opens the demo.
 */
export async function createBuildkiteDemo(settings: { readonly seed?: number }): Promise<DemoBackend> {
  const token = `bkua_demo${randomBytes(16).toString('hex')}`;
  // Actions use their own token: the read token holds no write_builds scope.
  const writeToken = `bkua_demowrite${randomBytes(14).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const sim = await createBuildkiteSimulator({
    // The all-scopes default token is replaced by a random one nobody is told.
    token: randomBytes(16).toString('hex'),
    tokens: [
      { token, scopes: ['read_builds', 'read_build_logs', 'read_agents', 'read_pipelines'] },
      { token: writeToken, scopes: ['read_builds', 'write_builds'] },
    ],
    history: 4,
    pastDays: 7,
    // The gateway imports the past at start; a local simulator need not hold it to 200 a minute.
    rateLimit: { limit: 6_000, windowSeconds: 60 },
    userRateLimit: { limit: 3_000, windowSeconds: 60 },
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
  });
  // Work that waits for a person from the first second, so `approve` can be tried at once.
  sim.triggerBuild({ pipeline: 'ios', branch: 'main', message: 'Release 4.2 (waits for you)', source: 'ui' });
  await sim.runUntilIdle();
  return {
    options: {
      url: sim.url,
      organization: sim.organization,
      token: { value: token },
      writeToken: { value: writeToken },
      webhookSecret: { value: secret },
      // Webhooks carry builds and jobs; polling keeps agents' connection state current.
      pollIntervalSeconds: 10,
      // Within the simulator's per-user limit above (Buildkite's own default is 50 a minute).
      requestsPerMinute: 1_200,
    },
    start(webhookUrl) {
      sim.addWebhook({ url: webhookUrl, mode: 'signature', secret });
      sim.autoplay({ intervalMs: 900 });
    },
    stop: () => sim.close(),
  };
}
