import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapterFactories } from '../../src/adapters.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { registerProviders } from '../../src/providers.ts';
import { startTestCiServer, testProvider, type TestCiServer } from '../fixtures/test-provider/index.ts';
import { startGatewayStack, type GatewayStack, type GraphqlResponse } from './gateway-stack.ts';

/** A gateway over the test-only provider (testci) with write credentials, API keys and an audit file. */
export const READ_TOKEN = 'tci_readreadreadreadread';
export const WRITE_TOKEN = 'tci_writewritewritewrite';
export const providers = registerProviders(...Object.values(adapterFactories), testProvider);

export interface ActionsStack extends GatewayStack {
  readonly upstream: TestCiServer;
  readonly auditFile: string;
  /** A GraphQL POST with an API key (or none). */
  gql<T = Record<string, unknown>>(key: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphqlResponse<T> & { status: number }>;
  /** The audit records written so far (flushed first). */
  auditRecords(): Promise<Record<string, unknown>[]>;
  /** POSTs the upstream received (the action API). */
  writes(): { method: string; path: string; token: string }[];
  readonly keys: Record<string, string>;
}

/** Grants by key id; every key may read every backend. */
export type KeyGrants = Record<string, unknown[]>;

export async function startActionsStack(options: { keys?: KeyGrants; config?: Record<string, unknown>; upstream?: TestCiServer } = {}): Promise<ActionsStack> {
  const upstream = options.upstream ?? (await startTestCiServer(READ_TOKEN, WRITE_TOKEN));
  const keys: Record<string, string> = {};
  const apiKeys = await Promise.all(Object.entries(options.keys ?? {}).map(async ([id, scopes]) => {
    const created = await createApiKey(id);
    keys[id] = created.key;
    return { id, hash: created.hash, scopes };
  }));
  const auditFile = join(mkdtempSync(join(tmpdir(), 'sy-actions-')), 'audit.jsonl');
  const stack = await startGatewayStack({
    freshnessSeconds: 0,
    audit: { file: auditFile },
    auth: apiKeys.length > 0 ? { mode: 'required', apiKeys } : { mode: 'open' },
    backends: [
      { name: 'tci', provider: 'testci', url: upstream.url, token: { value: READ_TOKEN }, writeToken: { value: WRITE_TOKEN }, projects: ['acme-api', 'acme-web'] },
      { name: 'tci-ro', provider: 'testci', url: upstream.url, token: { value: READ_TOKEN }, projects: ['acme-api'] },
      { name: 'tci-limited', provider: 'testci', url: upstream.url, token: { value: READ_TOKEN }, writeToken: { value: WRITE_TOKEN }, projects: ['acme-api'], unsupportedActions: ['cancelPipeline'] },
    ],
    ...options.config,
  }, { factories: providers, onClose: options.upstream ? undefined : () => upstream.close() });
  return {
    ...stack,
    upstream,
    auditFile,
    keys,
    async gql(key, query, variables, headers = {}) {
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as GraphqlResponse<never>) };
    },
    async auditRecords() {
      await stack.gateway.audit.flush();
      return readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    writes: () => upstream.log.filter((r) => r.method !== 'GET'),
  };
}

export const gid = (type: string, backend: string, nativeId: string) => Buffer.from(`${type}:${backend}:${nativeId}`).toString('base64url');

export const PAYLOAD = `dryRun replayed clientMutationId errors { code message backend input upstreamStatus } upstream { backend { name } calls { method path status } }`;
