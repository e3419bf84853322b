import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { readSse } from '../helpers/sse.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'switchyard';

describe('authentication and scopes on every transport', () => {
  let stack: Stack;
  let apiOnly: string; // sees octo-org/api only
  let everything: string; // sees all of gh, runners included
  let toRevoke: string;
  let privateKey: CryptoKey;
  const counts = { cases: 0 };
  const apiKeys: { id: string; hash: string; scopes: unknown[]; revoked?: boolean }[] = [];

  beforeAll(async () => {
    const a = await createApiKey('api-only');
    const b = await createApiKey('everything');
    const c = await createApiKey('to-revoke');
    apiOnly = a.key;
    everything = b.key;
    toRevoke = c.key;
    apiKeys.push(
      { id: 'api-only', hash: a.hash, scopes: [{ backends: ['gh'], projects: ['octo-org/api'] }] },
      { id: 'everything', hash: b.hash, scopes: [{ backends: ['*'] }] },
      { id: 'to-revoke', hash: c.hash, scopes: [{ backends: ['*'] }] },
    );
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey as CryptoKey;
    stack = await startStack({
      sim: { repositories: ['api', 'web'], history: 2 },
      config: {
        auth: {
          mode: 'required',
          apiKeys,
          jwt: { issuer: ISSUER, audience: AUDIENCE, publicKey: await exportSPKI(pair.publicKey), clockToleranceSeconds: 0, defaultScopes: [{ backends: ['gh'], projects: ['octo-org/web'] }] },
        },
      },
    });
  });
  afterAll(async () => {
    console.info(`auth bad-input cases: ${counts.cases}, all answered with the documented error`);
    await stack.close();
  });

  const jwt = (claims: { exp?: number; aud?: string; iss?: string; nbf?: number } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('alice')
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(privateKey);

  const post = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] } };
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('should refuse missing, invalid, expired, wrong-audience and wrong-issuer credentials over HTTP with 401', async () => {
    const bad: Record<string, string>[] = [
      {},
      bearer('nonsense'),
      bearer(`${apiOnly}x`),
      { 'x-api-key': 'sy_nope_AAAA' },
      bearer(await jwt({ exp: Math.floor(Date.now() / 1000) - 10 })),
      bearer(await jwt({ aud: 'someone-else' })),
      bearer(await jwt({ iss: 'https://evil.example' })),
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    ];
    for (const headers of bad) {
      const res = await post('{ backends { name } }', headers);
      counts.cases++;
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(res.body)).not.toContain(apiOnly);
    }
    expect((await post('{ backends { name } }', bearer(everything))).status).toBe(200);
    expect((await post('{ backends { name } }', { 'x-api-key': apiOnly })).status).toBe(200);
    expect((await post('{ backends { name } }', bearer(await jwt()))).status).toBe(200);
  });

  it('should show each identity only its scope: lists, node(id), runners', async () => {
    const q = '{ pipelines(first: 50) { nodes { id project { fullName } } } runners { nodes { name } } }';
    const all = await post(q, bearer(everything));
    const api = await post(q, bearer(apiOnly));
    const web = await post(q, bearer(await jwt()));
    const projectsOf = (r: typeof all) => new Set((r.body.data!.pipelines as { nodes: { project: { fullName: string } }[] }).nodes.map((n) => n.project.fullName));
    expect(projectsOf(all)).toEqual(new Set(['octo-org/api', 'octo-org/web']));
    expect(projectsOf(api)).toEqual(new Set(['octo-org/api']));
    expect(projectsOf(web)).toEqual(new Set(['octo-org/web']));
    // Runners are shared infrastructure: project-restricted grants do not see them.
    expect((all.body.data!.runners as { nodes: unknown[] }).nodes.length).toBeGreaterThan(0);
    expect((api.body.data!.runners as { nodes: unknown[] }).nodes).toEqual([]);
    // An out-of-scope id reads as not found.
    const webPipeline = (all.body.data!.pipelines as { nodes: { id: string; project: { fullName: string } }[] }).nodes.find((n) => n.project.fullName === 'octo-org/web')!;
    const lookup = await post(`{ node(id: "${webPipeline.id}") { id } }`, bearer(apiOnly));
    counts.cases++;
    expect(lookup.body).toEqual({ data: { node: null } });
  });

  it('should refuse unauthenticated WebSocket connections with 4403 and filter live events by scope', async () => {
    const refused = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const closeCode = await new Promise<number>((resolve) => refused.on('closed', (e) => resolve((e as { code: number }).code)));
    counts.cases++;
    expect(closeCode).toBe(4403);
    await refused.dispose();

    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${apiOnly}` } });
    const seen: string[] = [];
    const unsubscribe = client.subscribe<{ jobUpdated: { job: { name: string } } }>(
      { query: 'subscription { jobUpdated { job { name project { fullName } } } }' },
      { next: (v) => seen.push(v.data!.jobUpdated.job.name), error: () => undefined, complete: () => undefined },
    );
    await waitFor(() => stack.gateway.subscriptionCount === 1);
    await stack.sim.triggerRun({ repo: 'web', jobs: [{ name: 'web-secret', labels: ['self-hosted'] }] });
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'api-visible', labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    await waitFor(() => seen.filter((n) => n === 'api-visible').length >= 3);
    expect(new Set(seen)).toEqual(new Set(['api-visible']));
    counts.cases++;
    unsubscribe();
    await client.dispose();
  });

  it('should end a WebSocket within a second of its JWT expiring, delivering nothing after', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${await jwt({ exp })}` } });
    const received: number[] = [];
    let closedAt = 0;
    let closeCode = 0;
    client.on('closed', (e) => {
      closedAt = Date.now();
      closeCode = (e as { code: number }).code;
    });
    client.subscribe({ query: 'subscription { jobUpdated { job { name } } }' }, { next: () => received.push(Date.now()), error: () => undefined, complete: () => undefined });
    await waitFor(() => stack.gateway.subscriptionCount === 1);
    await waitFor(() => closedAt > 0, 5000, 'close after expiry');
    expect(closeCode).toBe(4403);
    expect(closedAt - exp * 1000).toBeLessThan(1000);
    expect(received.every((t) => t < exp * 1000)).toBe(true);
    counts.cases++;
    await client.dispose();
  });

  it('should end WebSocket and SSE streams of a revoked key within a second', async () => {
    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${toRevoke}` } });
    let closeCode = 0;
    client.on('closed', (e) => (closeCode = (e as { code: number }).code));
    client.subscribe({ query: 'subscription { runnerUpdated { runner { name } } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    const sse = readSse(`${stack.base}/graphql`, 'subscription { runnerUpdated { runner { name } } }', undefined, { authorization: `Bearer ${toRevoke}` });
    await waitFor(() => stack.gateway.subscriptionCount === 2);
    const revokedAt = Date.now();
    await stack.gateway.reloadApiKeys(apiKeys.map((k) => (k.id === 'to-revoke' ? { ...k, revoked: true } : k)) as never);
    await waitFor(() => closeCode !== 0 && stack.gateway.subscriptionCount === 0, 2000, 'revoked streams to end');
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    expect(closeCode).toBe(4403);
    expect((await post('{ backends { name } }', bearer(toRevoke))).status).toBe(401);
    counts.cases += 2;
    await sse.done;
    await client.dispose();
  });
});
