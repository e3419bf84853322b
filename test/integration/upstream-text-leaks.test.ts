import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { useFakeUpstream } from '../helpers/fake-upstream.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 10 item 15: upstream error bodies were reflected verbatim (a token and
 * a user:pw@ URL planted by the test upstream came back to the client), and
 * Backend.health.lastErrorMessage showed another project's path to a
 * project-scoped key.
 */
const PLANTED = {
  token: 'ghp_Pl4nt3dT0k3nAbCdEfGhIjKlMnOpQrStUv12',
  password: 'hunter2planted',
  query: 'qT0k3nPlanted99',
};
const LEAKY_BODY = `denied for https://deploy:${PLANTED.password}@git.internal.example/a.git?private_token=${PLANTED.query} using ${PLANTED.token}`;

describe('upstream error text is sanitized before it reaches a client', () => {
  const upstream = useFakeUpstream((req, res) => {
    // Every provider's dialect: a JSON `message` (GitHub, GitLab) or a plain body (Jenkins).
    const status = req.url?.startsWith('/jenkins') ? 403 : 422;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: LEAKY_BODY }));
  });
  let stack: GatewayStack;
  beforeAll(async () => {
    stack = await startGatewayStack({
      backends: [
        { name: 'gh', provider: 'github', url: upstream.url, token: { value: 'ghp_configuredtokenvalue000000000000000' }, repositories: ['octo-org/api'] },
        { name: 'gl', provider: 'gitlab', url: `${upstream.url}/api/v4`, token: { value: 'glpat-configured0000000' }, projects: ['platform/backend'], runners: { scope: 'none' } },
        { name: 'jk', provider: 'jenkins', url: `${upstream.url}/jenkins`, user: 'bot', apiToken: { value: 'jenkins-token' } },
      ],
    });
  });
  afterAll(() => stack.close());

  it('should show no planted secret in GraphQL errors or Backend.health, for any provider', async () => {
    const listing = await stack.query('{ projects { nodes { id } } pipelines { nodes { id } } }');
    const health = await stack.query('{ backends { name health { lastErrorCode lastErrorMessage } } }');
    const text = JSON.stringify([listing, health]);
    // The failures did come back (so the check below is not vacuous)...
    expect(listing.errors?.map((e) => e.extensions?.backend).sort()).toEqual(['gh', 'gl', 'jk']);
    expect(text).toContain('[redacted]');
    // ...without what the upstream planted.
    for (const secret of Object.values(PLANTED)) expect(text).not.toContain(secret);
  });
});

describe('Backend.health details are scoped to what a key may see', () => {
  let stack: Stack;
  let apiOnly: string;
  let everything: string;
  beforeAll(async () => {
    const a = await createApiKey('api-only');
    const b = await createApiKey('everything');
    apiOnly = a.key;
    everything = b.key;
    stack = await startStack({
      sim: { history: 1 },
      webhooks: false,
      config: {
        auth: {
          mode: 'required',
          apiKeys: [
            { id: 'api-only', hash: a.hash, scopes: [{ backends: ['gh'], projects: ['octo-org/api'] }] },
            { id: 'everything', hash: b.hash, scopes: [{ backends: ['*'] }] },
          ],
        },
      },
    });
  });
  afterAll(() => stack.close());

  const post = async (query: string, key: string) => {
    const res = await fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });
    return (await res.json()) as { data?: { backends?: { health: { lastErrorCode: string | null; lastErrorMessage: string | null } }[] }; errors?: { message: string }[] };
  };

  it('should not show a project-scoped key the path of another project in health or errors', async () => {
    stack.sim.setFault({ status: 400, match: /\/repos\/octo-org\/infra\/actions\/runs/, body: { message: 'Bad request' } });
    const fromFull = await post('{ pipelines { nodes { id } } }', everything);
    expect(JSON.stringify(fromFull.errors)).toContain('octo-org/infra');

    const limited = await post('{ backends { health { lastErrorCode lastErrorMessage } } pipelines { nodes { id } } }', apiOnly);
    const health = limited.data?.backends?.[0]?.health;
    expect(health?.lastErrorCode).toBe('UPSTREAM_BAD_RESPONSE');
    expect(health?.lastErrorMessage).not.toBeNull();
    expect(JSON.stringify(limited)).not.toContain('infra');

    const full = await post('{ backends { health { lastErrorMessage } } }', everything);
    expect(full.data?.backends?.[0]?.health.lastErrorMessage).toContain('octo-org/infra');
  });
});
