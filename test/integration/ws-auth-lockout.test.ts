import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { openRawSocket } from '../helpers/raw-ws.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'switchyard';
const LIMIT = 3;

/** A JWKS endpoint whose answers wait for `release()`: authentication is slow exactly as long as the test wants. */
async function heldJwks(jwks: unknown) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    void released.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    get requests() {
      return requests;
    },
    release,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('a WebSocket that closes during connection_init authentication', () => {
  let stack: Stack;
  let jwks: Awaited<ReturnType<typeof heldJwks>>;
  let token: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    jwks = await heldJwks({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice').setIssuer(ISSUER).setAudience(AUDIENCE)
      .setIssuedAt().setExpirationTime('10m').sign(pair.privateKey);
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: {
        limits: { maxConnectionsPerIdentity: LIMIT },
        auth: { mode: 'required', jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.url, defaultScopes: [{ backends: ['*'] }] } },
      },
    });
  });
  afterAll(async () => {
    await stack.close();
    await jwks.close();
  });

  it('should not keep its per-identity slot: the identity still connects afterwards', async () => {
    const url = `${stack.base.replace('http', 'ws')}/graphql`;
    // More sockets than the identity's limit, each gone before its authentication can finish.
    const quitters = await Promise.all(Array.from({ length: LIMIT + 2 }, () => openRawSocket(url)));
    for (const q of quitters) q.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await waitFor(() => jwks.requests >= 1, 5000, 'the JWKS fetch (authentication under way)');
    for (const q of quitters) q.ws.close(1000);
    // The client sees the close once the server has answered the close frame: the server-side socket is no longer open.
    await Promise.all(quitters.map((q) => q.closing));
    jwks.release();

    const client = await openRawSocket(url);
    await client.init({ authorization: `Bearer ${token}` });
    expect(client.closed).toBeNull();
    expect(stack.gateway.connectionSlots).toBe(1);
    client.ws.close(1000);
    await waitFor(() => stack.gateway.connectionSlots === 0, 5000, 'every slot released');
  });
});
