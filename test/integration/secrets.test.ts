import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_TOKEN, startStack, WEBHOOK_SECRET, type Stack } from '../helpers/stack.ts';

/**
 * Secrets are referenced in config and resolved at start-up; they must never
 * reach a log line, an error message or a response, whatever happens.
 */
describe('secrets stay secret', () => {
  let stack: Stack;
  const lines: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 2 }, logSink: (line) => lines.push(line), config: { backendTimeoutMs: 500 } });
  });
  afterAll(() => stack.close());

  it('should keep the token and webhook secret out of logs and responses under errors and attacks', async () => {
    const responses: string[] = [];
    const run = async (q: string) => responses.push(JSON.stringify(await stack.query(q)));
    await run('{ pipelines { nodes { id jobs { nodes { runner { name } } } } } runners { nodes { name } } }');
    for (const fault of [{ status: 401 }, { status: 500 }, { status: 403, headers: { 'x-ratelimit-remaining': '0' } }, { hang: true as const }]) {
      stack.sim.setFault(fault);
      stack.gateway.services.listCache.clear();
      await run('{ pipelines { nodes { id } } runners { nodes { name } } backends { health { lastErrorMessage } } }');
    }
    stack.sim.setFault(null);
    await stack.gateway.scheduler.pollNow('gh');
    // Forged and garbage webhooks are logged (without their bodies).
    const body = JSON.stringify({ action: 'queued', workflow_job: { id: 1 } });
    for (const sig of ['sha256=00', `sha256=${createHmac('sha256', 'nope').update(body).digest('hex')}`, '']) {
      const res = await fetch(`${stack.base}/webhooks/gh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-github-delivery': randomUUID(), ...(sig ? { 'x-hub-signature-256': sig } : {}) },
        body,
      });
      responses.push(await res.text());
    }
    const everything = [...lines, ...responses].join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(everything).toMatch(/verification failed/);
    expect(everything).not.toContain(GITHUB_TOKEN);
    expect(everything).not.toContain(WEBHOOK_SECRET);
  });
});
