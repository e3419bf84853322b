import { requireSecret } from '../../src/adapter-kit/require-secret.ts';
import type { AdapterContext, AdapterFactory, BackendAdapter } from '../../src/adapter-contract.ts';
import { BuildkiteClient } from './client.ts';
import { buildkiteConfigSchema, type BuildkiteConfig } from './config.ts';
import { createBuildkiteDemo } from './demo.ts';
import { listPipelines } from './list.ts';
import { createBatchFunctions, type LoaderDeps } from './loaders.ts';
import { Poller } from './poller.ts';
import { ProjectDirectory } from './projects.ts';
import { RunnerSet } from './runners.ts';
import { createWebhookHandler } from './webhooks.ts';
import { createBuildkiteActions } from './actions.ts';
import { createBuildkiteLogs } from './logs.ts';
import { jobsOfBuild, toPipeline } from './normalize.ts';

export type { BuildkiteConfig } from './config.ts';

/** The adapter also exposes its client, for the actions and logs wired at merge time and for benchmarks. */
export interface BuildkiteAdapter extends BackendAdapter {
  readonly client: BuildkiteClient;
}

function create(config: BuildkiteConfig, ctx: AdapterContext): BuildkiteAdapter {
  const token = requireSecret(ctx, config.token, 'Buildkite token');
  const webhookSecret = config.webhookSecret ? requireSecret(ctx, config.webhookSecret, 'Buildkite webhook secret') : undefined;
  const webhookToken = config.webhookToken ? requireSecret(ctx, config.webhookToken, 'Buildkite webhook token') : undefined;
  const org = config.organization;

  const client = new BuildkiteClient({
    backend: ctx.name, baseUrl: config.url, token, timeoutMs: config.requestTimeoutMs, health: ctx.health, now: ctx.now, log: ctx.log,
  });
  const projects = new ProjectDirectory({ backend: ctx.name, client, organization: org, pipelines: config.pipelines, now: ctx.now });
  const runners = new RunnerSet({ backend: ctx.name, client, organization: org, now: ctx.now });
  const loader: LoaderDeps = { backend: ctx.name, client, organization: org, projects, runners };
  const poller = new Poller({
    backend: ctx.name, client, organization: org, pipelines: config.pipelines, projects, runners, now: ctx.now,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    idlePollIntervalMs: config.idlePollIntervalSeconds * 1000,
    requestsPerMinute: config.requestsPerMinute,
  });
  const webhooks = webhookSecret !== undefined || webhookToken !== undefined;
  // Write token: held by the actions' own client only (reads never send it).
  const writeToken = config.writeToken ? requireSecret(ctx, config.writeToken, 'Buildkite write token') : undefined;
  const actions = writeToken === undefined ? undefined : createBuildkiteActions({
    backend: ctx.name, organization: org, url: config.url, writeToken, timeoutMs: config.requestTimeoutMs, now: ctx.now,
    covers: (slug) => projects.inScope(slug), followMs: config.actionFollowMs,
    toEntities: (build) => [toPipeline(ctx.name, build), ...jobsOfBuild(ctx.name, build, { attempts: false })],
  });

  return {
    name: ctx.name,
    provider: 'buildkite',
    url: config.url,
    // An agent runs one job at a time, and job events name it: the core derives busy/idle from them.
    capabilities: { webhooks, polling: true, runners: true, steps: false },
    client,
    batch: createBatchFunctions(loader),
    listProjects: (signal) => projects.list(signal),
    listPipelines: (query, signal) => listPipelines({ backend: ctx.name, client, organization: org, projects, pipelines: config.pipelines }, query, signal),
    listRunners: (signal) => runners.list(signal),
    owns: (entity) => projects.owns(entity),
    logs: createBuildkiteLogs({ backend: ctx.name, organization: org, url: config.url, token, timeoutMs: config.requestTimeoutMs, now: ctx.now, covers: (slug) => projects.inScope(slug) }),
    ...(actions ? { actions } : {}),
    ...(webhooks
      ? {
          webhook: createWebhookHandler({
            backend: ctx.name,
            ...(webhookSecret !== undefined ? { secret: webhookSecret } : {}),
            ...(webhookToken !== undefined ? { token: webhookToken } : {}),
            now: ctx.now,
            inScope: (slug) => projects.inScope(slug),
          }),
        }
      : {}),
    poll: (signal) => poller.poll(signal),
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    dispose: async () => client.dispose(),
  };
}

const buildkiteAdapter = {
  provider: 'buildkite',
  configSchema: buildkiteConfigSchema,
  // Buildkite API access tokens (`bkua_…`) and agent tokens (`bkat_…`).
  secretPatterns: [/bk(?:ua|at)_[A-Za-z0-9]{20,}/g],
  // Buildkite documents no webhook timeout or retry policy (reference §3.3): the core's default.
  webhookTimeoutMs: 10_000,
  create,
  createDemo: createBuildkiteDemo,
} satisfies AdapterFactory<BuildkiteConfig>;

export default buildkiteAdapter;
