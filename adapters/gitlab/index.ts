import { requireSecret } from '../../src/adapter-kit/require-secret.ts';
import type { AdapterContext, AdapterFactory, BackendAdapter } from '../../src/adapter-contract.ts';
import { createGitlabActions } from './actions.ts';
import { GitlabClient } from './client.ts';
import { CommitTitles } from './commit-titles.ts';
import { gitlabConfigSchema, runnerScopeOf, type GitlabConfig } from './config.ts';
import { createGitlabDemo } from './demo.ts';
import { listPipelines } from './list.ts';
import { createGitlabLogs } from './logs.ts';
import { createBatchFunctions, type LoaderDeps } from './loaders.ts';
import { Poller } from './poller.ts';
import { ProjectDirectory } from './projects.ts';
import { RunnerSet } from './runners.ts';
import { createWebhookHandler } from './webhooks.ts';

export type { GitlabConfig } from './config.ts';

/** The adapter also exposes its client's counters for benchmarks. */
export interface GitlabAdapter extends BackendAdapter {
  readonly stats: GitlabClient['stats'];
}

function create(config: GitlabConfig, ctx: AdapterContext): GitlabAdapter {
  const token = config.token ? requireSecret(ctx, config.token, 'GitLab token') : undefined;
  if (!token) ctx.log.warn('no GitLab token configured: only public projects are visible');
  const webhookToken = config.webhookToken ? requireSecret(ctx, config.webhookToken, 'GitLab webhook token') : undefined;
  const writeToken = config.writeToken ? requireSecret(ctx, config.writeToken, 'GitLab write token') : undefined;
  const signingToken = config.webhookSigningToken ? requireSecret(ctx, config.webhookSigningToken, 'GitLab webhook signing token') : undefined;

  const client = new GitlabClient({
    backend: ctx.name,
    baseUrl: config.url,
    token,
    timeoutMs: config.requestTimeoutMs,
    health: ctx.health,
    now: ctx.now,
    log: ctx.log,
  });
  const projects = new ProjectDirectory(client, ctx.name, config.projects, config.groups, ctx.now);
  const runners = new RunnerSet({ backend: ctx.name, client, scope: runnerScopeOf(config), groups: config.groups, projects, now: ctx.now });
  const titles = new CommitTitles();
  const loader: LoaderDeps = { backend: ctx.name, client, projects, runners, bridges: config.bridges, titles };
  const poller = new Poller({ loader, client, projects, runners, now: ctx.now, log: ctx.log });
  const webhooks = webhookToken !== undefined;

  return {
    name: ctx.name,
    provider: 'gitlab',
    url: config.url,
    // Runners run several jobs at once (`concurrent`); the listing's job_execution_status says only active/idle.
    capabilities: { webhooks, polling: true, runners: runnerScopeOf(config) !== 'none', steps: false, runnersRunSeveralJobs: true },
    stats: client.stats,
    batch: createBatchFunctions(loader),
    listProjects: (signal) => projects.list(signal),
    listPipelines: (query, signal) => listPipelines({ backend: ctx.name, client, projects, titles, log: ctx.log }, query, signal),
    listRunners: (signal) => runners.list({ signal }),
    owns: (entity) => projects.owns(entity),
    // The trace is read with the read token, like every other read.
    logs: createGitlabLogs({ client, projects }),
    ...(webhooks
      ? {
          webhook: createWebhookHandler({
            backend: ctx.name,
            token: webhookToken,
            ...(signingToken !== undefined ? { signingToken } : {}),
            now: ctx.now,
            titles,
            covers: (id, path) => projects.admit(id, path),
            onForeignProject: (info) => ctx.log.info(info, 'GitLab webhook for a project outside this backend ignored'),
          }),
        }
      : {}),
    // Actions only with their own token: a read-only deployment holds no write power.
    ...(writeToken !== undefined
      ? { actions: createGitlabActions({ backend: ctx.name, baseUrl: config.url, writeToken, timeoutMs: config.requestTimeoutMs, now: ctx.now }) }
      : {}),
    poll: (signal) => poller.poll(signal),
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    dispose: async () => client.dispose(),
  };
}

const gitlabAdapter = {
  provider: 'gitlab',
  configSchema: gitlabConfigSchema,
  // Personal/project/deploy/runner/CI-build/OAuth/feed/... tokens.
  secretPatterns: [/gl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent|ffct|wt)-[A-Za-z0-9_-]{10,}/g],
  // GitLab.com's webhook timeout (self-managed instances may configure another).
  webhookTimeoutMs: 10_000,
  create,
  createDemo: createGitlabDemo,
} satisfies AdapterFactory<GitlabConfig>;

export default gitlabAdapter;
