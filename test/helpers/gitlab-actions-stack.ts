import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { expect } from 'vitest';
import type { SimJob } from '../../adapters/gitlab/simulator/index.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { toGlobalId } from '../../src/ids.ts';
import type { GraphqlResponse } from './gateway-stack.ts';
import { startGitlabStack, type GitlabStack } from './gitlab-stack.ts';
import { waitFor } from './stack.ts';

/**
 * A real gateway on loopback over the GitLab simulator (signed webhooks on, no poller) as
 * backend `gl`, with a write token distinct from the read one, an API key `operator` whose grant
 * allows every action on `gl`, and an audit file. Actions reach the simulator only through the
 * gateway's mutations; its world is stepped by hand.
 */
export const GITLAB_WRITE_TOKEN = 'glpat-write-token-e2e-0123456789';

export interface GitlabActionsStack extends GitlabStack {
  /** The operator's API key. */
  readonly key: string;
  /** GitLab's numeric id of the `backend` project. */
  readonly projectId: number;
  /** A GraphQL POST with the operator's key. */
  gql<T>(query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse<T>>;
  /** A graphql-ws client authenticated as the operator (disposed by close()). */
  ws(): Client;
  /** The action records of the audit file (flushed first). */
  actionAudit(): Promise<Record<string, unknown>[]>;
  /** Steps the simulated world until `done` holds (each step is one transition of any pipeline). */
  stepUntil(done: () => boolean, max?: number): Promise<void>;
  /**
   * Moves the simulator's clock into the next second. GitLab's hooks stamp changes in whole
   * seconds, so a pipeline that fails and is retried within one second cannot be ordered (see
   * the GitLab adapter's revisions); a person retrying does so seconds later.
   */
  nextSecond(): void;
  job(id: number): SimJob;
  pipelineGid(id: number): string;
  jobGid(id: number): string;
  readonly projectGid: string;
}

export async function startGitlabActionsStack(): Promise<GitlabActionsStack> {
  const operator = await createApiKey('operator');
  const auditFile = join(mkdtempSync(join(tmpdir(), 'sy-gl-actions-')), 'audit.jsonl');
  let clockOffsetMs = 0;
  const stack = await startGitlabStack({
    sim: { history: 1, writeToken: GITLAB_WRITE_TOKEN, now: () => new Date(Date.now() + clockOffsetMs) },
    backend: { writeToken: { value: GITLAB_WRITE_TOKEN } },
    config: {
      audit: { file: auditFile },
      auth: {
        mode: 'required',
        apiKeys: [{ id: 'operator', hash: operator.hash, scopes: [{ backends: ['gl'], actions: ['cancel', 'retry', 'trigger', 'approve'] }] }],
      },
    },
  });
  const clients: Client[] = [];
  const projectId = stack.sim.world.projects().find((p) => p.path === 'backend')!.id;
  const job = (id: number): SimJob => {
    const found = stack.sim.world.jobs().find((j) => j.id === id);
    if (!found) throw new Error(`no simulated job ${id}`);
    return found;
  };
  return {
    ...stack,
    key: operator.key,
    projectId,
    async gql(query, variables) {
      const res = await fetch(stack.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${operator.key}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    ws() {
      const client = createClient({
        url: stack.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${operator.key}` },
      });
      clients.push(client);
      return client;
    },
    async actionAudit() {
      await stack.gateway.audit.flush();
      return readFileSync(auditFile, 'utf8').split('\n').filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((r) => r.kind === 'action');
    },
    async stepUntil(done, max = 300) {
      for (let i = 0; i < max && !done(); i++) if (!(await stack.sim.step())) break;
      expect(done()).toBe(true);
    },
    nextSecond() {
      clockOffsetMs += 1000;
    },
    job,
    pipelineGid: (id) => toGlobalId('Pipeline', 'gl', `${projectId}/pipelines/${id}`),
    jobGid: (id) => toGlobalId('Job', 'gl', `${projectId}/jobs/${id}`),
    projectGid: toGlobalId('Project', 'gl', String(projectId)),
    async close() {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await stack.close();
    },
  };
}

/** Waits until exactly `count` subscriptions are registered (graphql-ws acknowledges connections, not subscriptions). */
export const subscribers = (stack: GitlabActionsStack, count: number) =>
  waitFor(() => stack.gateway.subscriptionCount === count, 5000, `${count} subscribers`);

/** Consecutive duplicates removed: the statuses a subscriber saw, in order. */
export const transitions = (statuses: readonly string[]) => statuses.filter((s, i) => i === 0 || s !== statuses[i - 1]);

export const PAYLOAD = 'dryRun replayed errors { code message backend input upstreamStatus } upstream { backend { name } calls { method path status } }';

export interface ActionCallView { method: string; path: string; status: number | null }
export interface ActionPayloadView {
  dryRun: boolean;
  replayed: boolean;
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: ActionCallView[] } | null;
}
