import { requireSecret } from '../../src/adapter-kit/require-secret.ts';
import type { AdapterContext, AdapterFactory, BackendAdapter } from '../../src/adapter-contract.ts';
import { ActionSender } from './actions-http.ts';
import { createGithubActions } from './actions.ts';
import { GithubClient } from './client.ts';
import { githubConfigSchema, runnerScopesOf, type GithubConfig } from './config.ts';
import { listAllRunners, listPipelines } from './list.ts';
import { createGithubLogs } from './logs.ts';
import { createGithubDemo } from './demo.ts';
import { createBatchFunctions } from './loaders.ts';
import { Poller } from './poller.ts';
import { ProjectDirectory } from './projects.ts';
import { hostedRunnerOf } from './normalize.ts';
import { RunnerDirectory, runnerSources } from './runners.ts';
import { createWebhookHandler } from './webhooks.ts';

export type { GithubConfig } from './config.ts';

/** The adapter also exposes its client's counters (requests, 304s) for benchmarks. */
export interface GithubAdapter extends BackendAdapter {
  readonly stats: GithubClient['stats'];
}

function create(config: GithubConfig, ctx: AdapterContext): GithubAdapter {
  const token = config.token ? requireSecret(ctx, config.token, 'GitHub token') : undefined;
  if (!token) ctx.log.warn('no GitHub token configured: only public repositories, 60 requests/hour');
  const webhookSecrets = config.webhookSecret
    ? [config.webhookSecret, ...config.additionalWebhookSecrets].map((ref) => requireSecret(ctx, ref, 'GitHub webhook secret'))
    : [];

  const writeToken = config.writeToken ? requireSecret(ctx, config.writeToken, 'GitHub write token') : undefined;

  const client = new GithubClient({
    backend: ctx.name,
    baseUrl: config.url,
    token,
    timeoutMs: config.requestTimeoutMs,
    health: ctx.health,
    now: ctx.now,
    log: ctx.log,
  });
  const projects = new ProjectDirectory(client, ctx.name, config.repositories, config.organizations, ctx.now);
  const runners = new RunnerDirectory({ backend: ctx.name, client, sources: runnerSources(runnerScopesOf(config)), now: ctx.now });
  const poller = new Poller({ backend: ctx.name, client, projects, runners, now: ctx.now, log: ctx.log });

  return {
    name: ctx.name,
    provider: 'github',
    url: config.url,
    capabilities: { webhooks: webhookSecrets.length > 0, polling: true, runners: true, steps: true },
    stats: client.stats,
    batch: createBatchFunctions({ backend: ctx.name, client, projects, runners }),
    listProjects: (signal) => projects.list(signal),
    listPipelines: (query, signal) => listPipelines({ backend: ctx.name, client, projects, log: ctx.log }, query, signal),
    listRunners: (signal) => listAllRunners(runners, signal),
    runnerFromJob: hostedRunnerOf,
    owns: (entity) => projects.owns(entity),
    // Read with the read token; the signed log URL GitHub redirects to is fetched without it.
    logs: createGithubLogs({ backend: ctx.name, client, covers: (id) => projects.covers(id), timeoutMs: config.requestTimeoutMs }),
    ...(webhookSecrets.length > 0
      ? { webhook: createWebhookHandler({ backend: ctx.name, secrets: webhookSecrets, covers: (id) => projects.covers(id) }) }
      : {}),
    // Actions exist only with write credentials, and only they carry the write token.
    ...(writeToken
      ? {
        actions: createGithubActions({
          backend: ctx.name,
          readClient: client,
          now: ctx.now,
          onRerun: (id) => poller.follow(id),
          sender: new ActionSender({ backend: ctx.name, baseUrl: config.url, writeToken, timeoutMs: config.requestTimeoutMs, health: ctx.health, now: ctx.now }),
        }),
      }
      : {}),
    poll: (signal) => poller.poll(signal),
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    dispose: async () => client.dispose(),
  };
}

const githubAdapter = {
  provider: 'github',
  configSchema: githubConfigSchema,
  secretPatterns: [
    // ghp_ gho_ ghu_ ghs_ ghr_ and fine-grained github_pat_
    /gh[pousr]_[A-Za-z0-9_]{10,}/g,
    /github_pat_[A-Za-z0-9_]{10,}/g,
  ],
  // "respond within 10 seconds" on github.com (GHES allows 30 s).
  webhookTimeoutMs: 10_000,
  create,
  createDemo: createGithubDemo,
} satisfies AdapterFactory<GithubConfig>;

export default githubAdapter;
