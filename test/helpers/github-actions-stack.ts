import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import type { GraphqlResponse } from './gateway-stack.ts';
import { startStack, type Stack } from './stack.ts';

/**
 * The GitHub simulator (webhooks on) behind a real gateway on loopback, with write credentials,
 * one API key granted every action on `gh`, and an audit file: issue 15 end to end.
 */
export const GITHUB_WRITE_TOKEN = 'ghp_e2e_write_token_for_actions';

export interface GithubActionsStack extends Stack {
  readonly auditFile: string;
  /** A GraphQL POST with the operator's API key. */
  gql<T>(query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse<T>>;
  /** A graphql-ws client authenticated with the operator's key, disposed by close(). */
  ws(): Client;
  /** The action records of the audit log so far (flushed first). */
  auditedActions(): Promise<Record<string, unknown>[]>;
}

/** `simNow` is the simulator's clock (the gateway keeps real time): a test can make a run old. */
export async function startGithubActionsStack(options: { simNow?: () => Date } = {}): Promise<GithubActionsStack> {
  const operator = await createApiKey('operator');
  const auditFile = join(mkdtempSync(join(tmpdir(), 'sy-gh-actions-')), 'audit.jsonl');
  const stack = await startStack({
    sim: { writeToken: GITHUB_WRITE_TOKEN, repositories: ['api'], history: 0, ...(options.simNow ? { now: options.simNow } : {}) },
    backend: { writeToken: { value: GITHUB_WRITE_TOKEN } },
    config: {
      audit: { file: auditFile },
      auth: { mode: 'required', apiKeys: [{ id: 'operator', hash: operator.hash, scopes: [{ backends: ['gh'], actions: ['cancel', 'retry', 'trigger', 'approve'] }] }] },
    },
  });
  const clients: Client[] = [];
  const authorization = `Bearer ${operator.key}`;
  return {
    ...stack,
    auditFile,
    async gql(query, variables) {
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    ws() {
      const client = createClient({ url: stack.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization } });
      clients.push(client);
      return client;
    },
    async auditedActions() {
      await stack.gateway.audit.flush();
      return readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.kind === 'action');
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await stack.close();
    },
  };
}

/** A GitHub global id on the `gh` backend. */
export const ghId = (type: 'Project' | 'Pipeline' | 'Job', nativeId: string) => Buffer.from(`${type}:gh:${nativeId}`).toString('base64url');
