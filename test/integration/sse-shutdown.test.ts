import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startStack, waitFor } from '../helpers/stack.ts';

describe('SSE streams on graceful shutdown', () => {
  it('should end open SSE streams cleanly on close, so their clients reconnect elsewhere', async () => {
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
    const body = JSON.stringify({ query: 'subscription { runnerUpdated { runner { name } } }' });
    // How the stream finished: a clean end (the gateway ended it) or a cut connection.
    const outcome = new Promise<string>((resolve, reject) => {
      const req = request(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        res.on('data', () => undefined);
        res.once('end', () => resolve('ended'));
        res.once('aborted', () => resolve('cut'));
        res.once('error', () => resolve('cut'));
      });
      req.once('error', reject);
      req.end(body);
    });
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the SSE subscription');
    await stack.close();
    expect(await outcome).toBe('ended');
  });
});
