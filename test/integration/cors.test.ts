/**
 * CORS and the WebSocket Origin: an allow-list (server.cors.origins), deny by
 * default; preflights answered before authentication; an origin not listed is
 * never reflected; credentialed (cookie) mode is never allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const ALLOWED = 'https://ci.example.com';
const OTHER = 'https://evil.example';

describe('CORS allow-list on HTTP and WebSocket', () => {
  let stack: Stack;
  let open: Stack;
  let key: string;
  beforeAll(async () => {
    const created = await createApiKey('frontend');
    key = created.key;
    [stack, open] = await Promise.all([
      startStack({
        sim: { repositories: ['api'], history: 1 },
        config: {
          server: { port: 0, host: '127.0.0.1', cors: { origins: [ALLOWED], maxAgeSeconds: 300 } },
          auth: { mode: 'required', apiKeys: [{ id: 'frontend', hash: created.hash, scopes: [{ backends: ['*'] }] }] },
        },
      }),
      // No server.cors at all: the default denies every origin.
      startStack({ sim: { repositories: ['api'], history: 1 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stack?.close(), open?.close()]);
  });

  const preflight = (base: string, origin: string) =>
    fetch(`${base}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-api-key' } });
  const post = (base: string, headers: Record<string, string>) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"query":"{ backends { name } }"}' });
  const corsHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('access-control-')));

  it('should answer a preflight from a listed origin before authentication', async () => {
    const res = await preflight(stack.base, ALLOWED);
    expect(res.status).toBe(204);
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': ALLOWED,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': expect.stringMatching(/authorization.*content-type.*x-api-key/),
      'access-control-max-age': '300',
    });
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('should refuse a preflight from any other origin, reflecting nothing', async () => {
    for (const [base, origin] of [[stack.base, OTHER], [stack.base, 'null'], [open.base, ALLOWED], [open.base, OTHER]] as const) {
      const res = await preflight(base, origin);
      expect(res.status, `${base} ${origin}`).toBe(403);
      expect(corsHeaders(res), `${base} ${origin}`).toEqual({});
    }
  });

  it('should add CORS headers to actual responses, 401s included, for a listed origin only, never with credentials', async () => {
    const ok = await post(stack.base, { origin: ALLOWED, 'x-api-key': key });
    expect(ok.status).toBe(200);
    expect(corsHeaders(ok)).toMatchObject({ 'access-control-allow-origin': ALLOWED });
    // The frontend can read why it was refused.
    const refused = await post(stack.base, { origin: ALLOWED });
    expect(refused.status).toBe(401);
    expect(corsHeaders(refused)).toMatchObject({ 'access-control-allow-origin': ALLOWED, 'access-control-expose-headers': expect.stringContaining('www-authenticate') });
    for (const res of [await post(stack.base, { origin: OTHER, 'x-api-key': key }), await post(stack.base, { origin: OTHER }), await post(open.base, { origin: OTHER })]) {
      expect(corsHeaders(res)).toEqual({});
    }
    for (const res of [ok, refused]) expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  /** The upgrade's HTTP status: 101 when the handshake is accepted. */
  function upgradeStatus(base: string, origin: string | undefined, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { ...(origin ? { origin } : {}), ...(host ? { headers: { host } } : {}) });
      ws.once('upgrade', (res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('error', (error) => reject(error));
    });
  }

  it('should refuse a WebSocket upgrade from an origin not listed with 403, and allow listed, same-origin and non-browser clients', async () => {
    expect(await upgradeStatus(stack.base, OTHER)).toBe(403);
    expect(await upgradeStatus(stack.base, 'null')).toBe(403);
    expect(await upgradeStatus(open.base, OTHER)).toBe(403);
    expect(await upgradeStatus(stack.base, ALLOWED)).toBe(101);
    expect(await upgradeStatus(stack.base, undefined)).toBe(101);
    // GraphiQL served by the gateway itself: its page's origin is the gateway's.
    expect(await upgradeStatus(open.base, open.base)).toBe(101);
    expect(await upgradeStatus(open.base, 'https://gw.example.com', 'gw.example.com')).toBe(101);
  });
});
