import { randomBytes } from 'node:crypto';
import type { DemoBackend } from '../../src/adapter-contract.ts';
import { createJenkinsSimulator } from './simulator/index.ts';

/**
 * Demo mode for Jenkins: a simulated controller on loopback with folders, a
 * multibranch project, freestyle and Pipeline jobs, an input step and agents,
 * producing a steady flow of builds. Live state comes from adaptive polling
 * (Jenkins has no native webhooks); Notification-plugin pushes go to the
 * gateway as hints with a fresh shared secret, as a real setup would have.
 */
export async function createJenkinsDemo(settings: { readonly seed?: number }): Promise<DemoBackend> {
  const user = 'switchyard';
  const apiToken = randomBytes(16).toString('hex');
  // Actions use their own account: Job/Build and Job/Cancel; the read account holds no write permission.
  const writeUser = 'switchyard-actions';
  const writeToken = randomBytes(16).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const sim = createJenkinsSimulator({
    users: [
      { name: user, apiToken, permissions: [] },
      { name: writeUser, apiToken: writeToken, permissions: ['build', 'cancel'] },
    ],
    seed: settings.seed ?? Date.now() % 100_000,
    history: 4,
    pastDays: 7,
  });
  await sim.start();
  return {
    options: {
      url: sim.url,
      user,
      apiToken: { value: apiToken },
      writeUser,
      writeToken: { value: writeToken },
      notifySecret: { value: secret },
      pollIntervalSeconds: 2,
      idlePollIntervalSeconds: 10,
      requestsPerMinute: 600,
    },
    start(webhookUrl) {
      sim.setNotify({ url: webhookUrl, secretHeader: { name: 'X-Switchyard-Token', value: secret } });
      sim.autoplay({ intervalMs: 1000 });
    },
    stop: () => sim.stop(),
  };
}
