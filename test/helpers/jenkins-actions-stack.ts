import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { JenkinsSimulatorOptions, SimUser } from '../../adapters/jenkins/simulator/index.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import type { GraphqlResponse } from './gateway-stack.ts';
import { NOTIFY_SECRET, startJenkinsStack, type JenkinsStack } from './jenkins-stack.ts';

/**
 * A real gateway over the Jenkins simulator (backend `jk`) set up for actions: a write account
 * of its own (Job/Build, Job/Cancel) as `writeUser`/`writeToken`, API keys with `actions` grants,
 * an audit file, and Notification-plugin pushes into the gateway (polling stays manual).
 * `actionFollowMs: 0`: a trigger or retry names the queue stand-in, whose build the push reveals.
 */
export const WRITER: SimUser = { name: 'deployer', apiToken: 'jenkins-write-0bb2', permissions: ['build', 'cancel'] };

export interface JenkinsActionsStack extends JenkinsStack {
  readonly keys: Record<string, string>;
  readonly auditFile: string;
  /** A GraphQL POST with an API key. */
  gql<T = Record<string, unknown>>(key: string, query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse<T>>;
  /** A graphql-ws client authenticated with an API key (disposed by close()). */
  wsAs(key: string): Client;
  /** The audit records of kind `action` written so far (flushed first). */
  actionAudit(): Promise<Record<string, unknown>[]>;
  /** POSTs the simulator received (the writes). */
  posts(): { method: string; path: string }[];
}

export async function startJenkinsActionsStack(options: { keys: Record<string, unknown[]>; sim?: Omit<JenkinsSimulatorOptions, 'user' | 'apiToken' | 'users'> }): Promise<JenkinsActionsStack> {
  const keys: Record<string, string> = {};
  const apiKeys = await Promise.all(Object.entries(options.keys).map(async ([id, scopes]) => {
    const created = await createApiKey(id);
    keys[id] = created.key;
    return { id, hash: created.hash, scopes };
  }));
  const auditFile = join(mkdtempSync(join(tmpdir(), 'sy-jenkins-actions-')), 'audit.jsonl');
  const stack = await startJenkinsStack({
    sim: { history: 1, users: [WRITER], ...options.sim },
    backend: { writeUser: WRITER.name, writeToken: { value: WRITER.apiToken }, actionFollowMs: 0 },
    config: { freshnessSeconds: 0, auth: { mode: 'required', apiKeys }, audit: { file: auditFile } },
  });
  stack.sim.setNotify({ url: `${stack.base}/webhooks/jk`, secretHeader: { name: 'X-Switchyard-Token', value: NOTIFY_SECRET } });
  const clients: Client[] = [];
  return {
    ...stack,
    keys,
    auditFile,
    async gql(key, query, variables) {
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    wsAs(key) {
      const client = createClient({ url: stack.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` } });
      clients.push(client);
      return client;
    },
    async actionAudit() {
      await stack.gateway.audit.flush();
      return readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.kind === 'action');
    },
    posts: () => stack.sim.requests.filter((r) => r.method === 'POST').map((r) => ({ method: r.method, path: r.path })),
    async close() {
      stack.sim.setNotify(null);
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await stack.close();
    },
  };
}
