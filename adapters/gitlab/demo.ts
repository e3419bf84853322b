import { randomBytes } from 'node:crypto';
import type { DemoBackend } from '../../src/adapter-contract.ts';
import { createGitlabSimulator, type GitlabSimulator } from './simulator/index.ts';

/**
 * Demo mode for GitLab: a simulated group with a few projects and runners on
 * loopback, producing pipelines (stages, manual jobs, retries, a downstream
 * pipeline) and signed Pipeline/Job Hooks. Fresh random credentials per start.
 */
export async function createGitlabDemo(settings: { readonly seed?: number }): Promise<DemoBackend> {
  const token = `glpat-demo${randomBytes(10).toString('hex')}`;
  const writeToken = `glpat-demowrite${randomBytes(10).toString('hex')}`;
  const webhookToken = randomBytes(24).toString('base64url');
  const signingToken = `whsec_${randomBytes(32).toString('base64')}`;
  const sim = createGitlabSimulator({ token, writeToken, history: 6, pastDays: 7, ...(settings.seed === undefined ? {} : { seed: settings.seed }) });
  await sim.start();
  await seedWaitingWork(sim);
  return {
    options: {
      url: sim.url,
      token: { value: token },
      writeToken: { value: writeToken },
      webhookToken: { value: webhookToken },
      webhookSigningToken: { value: signingToken },
      groups: [sim.world.group],
      runners: { scope: 'groups' },
      // Hooks carry jobs and pipelines; polling keeps runners' online/offline state current.
      pollIntervalSeconds: 10,
    },
    start(webhookUrl) {
      sim.setWebhook({ url: webhookUrl, token: webhookToken, signingToken });
      sim.autoplay({ intervalMs: 900 });
    },
    stop: () => sim.stop(),
  };
}

/**
 * Work that waits for a person from the first second, so GraphiQL users can try `approve` and
 * `reject`: an optional manual job (play it, with variables) and a deployment awaiting approval.
 * Autoplay leaves both alone (it plays only blocking manual jobs).
 */
async function seedWaitingWork(sim: GitlabSimulator): Promise<void> {
  await sim.triggerPipeline({
    project: 'deploy', ref: 'main', source: 'web', name: 'Release (waits for you)',
    jobs: [
      { name: 'package', stage: 'build', tags: ['docker'] },
      { name: 'deploy:review', stage: 'deploy', when: 'manual' },
      { name: 'deploy:production', stage: 'deploy', environment: 'production', approval: true },
    ],
  });
  await sim.runUntilIdle();
}
