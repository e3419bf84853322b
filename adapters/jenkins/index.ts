import { requireSecret } from '../../src/adapter-kit/require-secret.ts';
import type { AdapterContext, AdapterFactory, BackendAdapter } from '../../src/adapter-contract.ts';
import { BuildReader } from './builds.ts';
import { JenkinsClient } from './client.ts';
import { listComputers } from './computers.ts';
import { jenkinsConfigSchema, type JenkinsConfig } from './config.ts';
import { createJenkinsDemo } from './demo.ts';
import { int } from './fields.ts';
import { listPipelines, type BuildIndexHints } from './list.ts';
import { createBatchFunctions, loadBuild } from './loaders.ts';
import { Poller } from './poller.ts';
import { JobDirectory } from './projects.ts';
import { createWebhookHandler } from './webhooks.ts';
import { JenkinsActionClient } from './action-client.ts';
import { createActions } from './actions.ts';
import { createJenkinsLogs } from './logs.ts';

export type { JenkinsConfig } from './config.ts';

/** The adapter also exposes its client's counters and the poller's last cycle, for tests and benchmarks. */
export interface JenkinsAdapter extends BackendAdapter {
  readonly stats: JenkinsClient['stats'];
  readonly lastPollCycle: () => Poller['lastCycle'];
}



function create(config: JenkinsConfig, ctx: AdapterContext): JenkinsAdapter {
  const apiToken = requireSecret(ctx, config.apiToken, 'Jenkins API token');
  const notifySecret = config.notifySecret ? requireSecret(ctx, config.notifySecret, 'Jenkins notify secret') : undefined;
  const client = new JenkinsClient({
    backend: ctx.name,
    baseUrl: config.url,
    user: config.user,
    apiToken,
    timeoutMs: config.requestTimeoutMs,
    requestsPerMinute: config.requestsPerMinute,
    now: ctx.now,
    log: ctx.log,
  });
  const jobs = new JobDirectory(client, ctx.name, config.jobs, config.folderDepth, ctx.now);
  // Write credentials: a client of their own, used by actions only (reads never hold them).
  const writeToken = config.writeToken ? requireSecret(ctx, config.writeToken, 'Jenkins write token') : undefined;
  const writeUser = config.writeUser ?? config.user;
  const actions = writeToken === undefined ? undefined : createActions({
    backend: ctx.name,
    client: new JenkinsActionClient({ backend: ctx.name, baseUrl: config.url, user: writeUser, token: writeToken, timeoutMs: config.requestTimeoutMs }),
    // The job listing an action consults (a trigger's job and multibranch sibling) is read with the write account too.
    jobs: new JobDirectory(
      new JenkinsClient({ backend: ctx.name, baseUrl: config.url, user: writeUser, apiToken: writeToken, timeoutMs: config.requestTimeoutMs, requestsPerMinute: config.requestsPerMinute, now: ctx.now, log: ctx.log }),
      ctx.name, config.jobs, config.folderDepth, ctx.now,
    ),
    followMs: config.actionFollowMs,
    followIntervalMs: 250,
  }, client);
  const reader = new BuildReader(client, ctx.name);
  const deps = { backend: ctx.name, client, jobs, reader, now: ctx.now };
  const pollIntervalMs = config.pollIntervalSeconds * 1000;
  /** Where paging back in time (listPipelines with createdBefore) left each job. */
  const hints: BuildIndexHints = new Map();
  const poller = new Poller({
    ...deps,
    pollIntervalMs,
    idlePollIntervalMs: config.idlePollIntervalSeconds * 1000,
    log: ctx.log,
  });

  return {
    name: ctx.name,
    provider: 'jenkins',
    url: config.url,
    // Agents have several executors and Pipeline nodes span stages: runner
    // busy/idle comes from /computer/api/json, never from job events.
    capabilities: { webhooks: notifySecret !== undefined, polling: true, runners: true, steps: true, runnerStateFromJobs: false },
    stats: client.stats,
    lastPollCycle: () => poller.lastCycle,
    batch: createBatchFunctions(deps),
    listProjects: () => jobs.list(),
    listPipelines: (query, signal) => listPipelines({ ...deps, depth: config.folderDepth, roots: config.jobs, hints }, query, signal),
    listRunners: (signal) => listComputers(client, ctx.name, jobs, ctx.now().getTime(), signal),
    owns: (entity) => jobs.owns(entity),
    // Read with the read credentials: a stage's log is its build's console (logs.ts).
    logs: createJenkinsLogs({ backend: ctx.name, client, covers: (fullName) => jobs.covers(fullName) }),
    ...(actions ? { actions } : {}),
    ...(notifySecret !== undefined
      ? {
          webhook: createWebhookHandler({
            secret: notifySecret,
            source: {
              covers: (fullName) => jobs.covers(fullName),
              load: async (fullName, number) => {
                const state = await loadBuild(deps, fullName, number);
                return state ? { entities: [state.pipeline, ...state.jobs], queueId: int(state.raw.queueId) } : null;
              },
            },
          }),
        }
      : {}),
    poll: (signal) => poller.poll(signal),
    pollIntervalMs,
    dispose: async () => client.dispose(),
  };
}

const jenkinsAdapter = {
  provider: 'jenkins',
  configSchema: jenkinsConfigSchema,
  create,
  createDemo: createJenkinsDemo,
} satisfies AdapterFactory<JenkinsConfig>;

export default jenkinsAdapter;
