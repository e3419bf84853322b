/**
 * Memory and connections held by clients: credentials are checked from the
 * headers before a GraphQL body is read, bodies being read at once are capped
 * (503 + Retry-After), and so are open connections (closed on accept).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { httpRequest, openRaw, rawExchange, type RawConnection } from '../helpers/raw-http.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const MAX_BODIES = 3;
const MAX_CONNECTIONS = 12;
const DECLARED = 1_000_000;

describe('limits on what unauthenticated and slow clients can hold', () => {
  let stack: Stack;
  let key: string;
  let port: number;
  // Over a connection of its own that closes (fetch would keep one open in its pool, counted by the cap).
  const readyz = async () => {
    const { response } = await rawExchange(port, httpRequest('GET', '/readyz', { host: 'gw', connection: 'close' }));
    return JSON.parse(response.split('\r\n\r\n')[1]!) as { connections: { open: number; limit: number; refused: number }; requestBodies: { reading: number; limit: number } };
  };

  beforeAll(async () => {
    const created = await createApiKey('slow');
    key = created.key;
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: {
        server: { port: 0, host: '127.0.0.1', maxConcurrentBodies: MAX_BODIES, maxConnections: MAX_CONNECTIONS,
          // Idle keep-alive connections of earlier tests' fetches close soon, so the connection count settles.
          idleTimeoutSeconds: 1 },
        auth: { mode: 'required', apiKeys: [{ id: 'slow', hash: created.hash, scopes: [{ backends: ['*'] }] }] },
      },
    });
    port = Number(new URL(stack.base).port);
  });
  afterAll(() => stack.close());

  /** A POST of a declared 1 MB body of which only the first bytes are sent. */
  const halfSentPost = (headers: Record<string, string> = {}) =>
    httpRequest('POST', '/graphql', { host: 'gw', 'content-type': 'application/json', 'content-length': DECLARED, ...headers }, '{"query":"{ backends { name } }"');

  it('should answer half-sent POSTs without credentials with 401 before their body is sent, holding no body slot', async () => {
    const clients: RawConnection[] = [];
    try {
      // More than the body cap and fewer than the connection cap: only the missing credentials can explain a 401.
      for (let i = 0; i < MAX_CONNECTIONS - 2; i++) clients.push(await openRaw(port));
      for (const c of clients) c.socket.write(halfSentPost());
      for (const c of clients) {
        // The rest of the body is never sent: this answer can only come from the headers.
        await c.waitFor(/^HTTP\/1\.1 401 [\s\S]*UNAUTHENTICATED/);
        expect(c.received()).toMatch(/connection: close/i);
        // Closed, not drained: the unread megabyte is not waited for.
        expect(await c.closed()).toBe(true);
      }
      expect((await readyz()).requestBodies.reading).toBe(0);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('should cap the bodies being read at once with 503 and Retry-After, and serve again once one is read', async () => {
    const slow: RawConnection[] = [];
    try {
      for (let i = 0; i < MAX_BODIES; i++) {
        const c = await openRaw(port);
        c.socket.write(halfSentPost({ 'x-api-key': key }));
        slow.push(c);
      }
      await waitFor(async () => (await readyz()).requestBodies.reading === MAX_BODIES, 5000, 'all body slots taken');
      const refused = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{"query":"{ backends { name } }"}' });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('SERVER_BUSY');
      // One slow client finishes its body: it is served, and its slot is free again.
      const first = slow[0]!;
      first.socket.end(`}${' '.repeat(DECLARED - Buffer.byteLength('{"query":"{ backends { name } }"}'))}`);
      await first.waitFor(/^HTTP\/1\.1 200 [\s\S]*"backends"/);
      await waitFor(async () => (await readyz()).requestBodies.reading === MAX_BODIES - 1, 5000, 'one body slot free');
      const served = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{"query":"{ backends { name } }"}' });
      expect(served.status).toBe(200);
    } finally {
      for (const c of slow) c.close();
    }
    await waitFor(async () => (await readyz()).requestBodies.reading === 0, 5000, 'slots released when clients leave');
  });

  it('should close connections past server.maxConnections on accept and accept again when one leaves', async () => {
    await waitFor(async () => (await readyz()).connections.open <= 1, 5000, 'earlier connections gone');
    const held: RawConnection[] = [];
    try {
      // Each held connection proves it was accepted by getting an answer on it.
      while (held.length < MAX_CONNECTIONS) {
        const c = await openRaw(port);
        c.socket.write(httpRequest('GET', '/healthz', { host: 'gw' }));
        await c.waitFor(/\{"status":"ok"\}$/);
        held.push(c);
      }
      const refusedBefore = await askOn(held[0]!);
      const extra = await openRaw(port);
      extra.socket.write(httpRequest('GET', '/healthz', { host: 'gw' }));
      expect(await extra.closed()).toBe(true);
      expect(extra.received()).toBe('');
      const after = await askOn(held[0]!);
      expect(after.connections.refused).toBe(refusedBefore.connections.refused + 1);
      expect(after.connections.limit).toBe(MAX_CONNECTIONS);
      // One leaves: a new client is accepted (once the server has seen the close).
      held.pop()!.close();
      await waitFor(async () => (await askOn(held[0]!)).connections.open < MAX_CONNECTIONS, 5000, 'a connection slot free');
      const again = await openRaw(port);
      again.socket.write(httpRequest('GET', '/healthz', { host: 'gw' }));
      await again.waitFor(/\{"status":"ok"\}$/);
      held.push(again);
    } finally {
      for (const c of held) c.close();
    }
  });
});

/** GET /readyz on an already-accepted keep-alive connection (a new one could be refused by the cap). */
async function askOn(c: RawConnection): Promise<{ connections: { open: number; limit: number; refused: number } }> {
  const before = c.received().length;
  c.socket.write(httpRequest('GET', '/readyz', { host: 'gw' }));
  const text = await c.waitFor(new RegExp(`^[\\s\\S]{${before}}HTTP/1\\.1 200[\\s\\S]*\\r\\n\\r\\n\\{[\\s\\S]*\\}$`));
  return JSON.parse(text.slice(before).split('\r\n\r\n')[1]!) as never;
}
