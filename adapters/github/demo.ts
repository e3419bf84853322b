import { randomBytes } from 'node:crypto';
import type { DemoBackend } from '../../src/adapter-contract.ts';
import { createGithubSimulator } from './simulator/index.ts';

/**
 * Demo mode for GitHub: a simulated organization on loopback with a few
 * repositories and self-hosted runners, producing a steady flow of runs and
 * signed webhooks. Fresh random credentials each start, as a real setup would have.
 */
export async function createGithubDemo(settings: { readonly seed?: number }): Promise<DemoBackend> {
  const token = `ghp_demo_${randomBytes(12).toString('hex')}`;
  // Actions write with their own token: the simulator refuses the read token on write endpoints.
  const writeToken = `ghp_demo_write_${randomBytes(12).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const sim = createGithubSimulator({ token, writeToken, history: 6, pastDays: 7, ...(settings.seed === undefined ? {} : { seed: settings.seed }) });
  await sim.start();
  return {
    options: {
      url: sim.url,
      token: { value: token },
      writeToken: { value: writeToken },
      webhookSecret: { value: secret },
      organizations: [sim.world.org],
      runners: { organizations: [sim.world.org] },
      // Webhooks carry jobs; polling keeps runners' online/offline state current.
      pollIntervalSeconds: 10,
    },
    start(webhookUrl) {
      sim.setWebhook({ url: webhookUrl, secret });
      sim.autoplay({ intervalMs: 800 });
    },
    stop: () => sim.stop(),
  };
}
