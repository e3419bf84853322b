import type { Resolvers } from '../__generated__/resolvers-types.ts';
import { entityGlobalId } from '../ids.ts';
import { isTerminal } from '../model.ts';
import { providerName } from '../providers.ts';
import { backendOf, loadRelated, secondsBetween } from './field-helpers.ts';
import { jobsOfPipelines } from './query-jobs.ts';
import { resolvePipelines } from './query-pipelines.ts';
import { compileJobFilter } from './filters.ts';
import { learnNamesForFilter, liveProjectName } from './project-name-filter-live.ts';
import { paginate } from './connection.ts';
import { scopedErrorMessage } from './scoped-errors.ts';
import { pipelineOfJob, projectOfEntity } from './related-entities.ts';
import { visibleToCaller } from './backend-calls.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const typeResolvers: Resolvers = {
  Node: {
    __resolveType(node) {
      return 'adapter' in node ? 'Backend' : node.type;
    },
  },
  Backend: {
    provider: (b) => providerName(b.adapter.provider),
    url: (b) => b.adapter.url,
    capabilities: (b) => b.adapter.capabilities,
    health: (b, _, ctx) => {
      const h = b.health.current;
      return {
        state: h.state,
        lastSuccessAt: iso(h.lastSuccessAt),
        lastErrorAt: iso(h.lastErrorAt),
        lastErrorCode: h.lastErrorCode,
        lastErrorMessage: scopedErrorMessage(ctx, b.name, h.lastErrorCode, h.lastErrorMessage),
        lastWebhookAt: iso(h.lastWebhookAt),
        lastPollAt: iso(h.lastPollAt),
        rateLimitRemaining: h.rateLimitRemaining,
        rateLimitResetAt: iso(h.rateLimitResetAt),
        circuit: b.policy.circuit(),
        rateLimitedUntil: b.policy.blockedUntil() > Date.now() ? new Date(b.policy.blockedUntil()).toISOString() : null,
      };
    },
    sync: (b, _, ctx) => {
      const sync = ctx.history?.sync?.(b.name) ?? null;
      return sync && { ...sync, lastError: scopedErrorMessage(ctx, b.name, null, sync.lastError) };
    },
  },
  NativeStatus: {
    provider: (n) => providerName(n.provider),
  },
  Project: {
    id: (p) => entityGlobalId(p),
    backend: (p, _, ctx) => backendOf(ctx, p.backend),
    pipelines: (p, args, ctx, info) =>
      resolvePipelines(ctx, { ...args, filter: { ...args.filter, projects: [entityGlobalId(p)] } }, info),
  },
  Pipeline: {
    id: (p) => entityGlobalId(p),
    backend: (p, _, ctx) => backendOf(ctx, p.backend),
    project: (p, _, ctx, info) => projectOfEntity(p, ctx, info),
    duration: (p, _, ctx) => secondsBetween(p.startedAt, p.finishedAt, ctx.now(), !isTerminal(p.status)),
    queueTime: (p, _, ctx) => secondsBetween(p.queuedAt, p.startedAt, ctx.now(), p.status === 'QUEUED' || p.status === 'PENDING'),
    jobs: async (p, args, ctx, info) => {
      const filter = compileJobFilter(args.filter, { purpose: 'query', projectName: liveProjectName(ctx) });
      await learnNamesForFilter(ctx, args.filter);
      const jobs = (await jobsOfPipelines(ctx, [p], info)).filter(filter.matches);
      const first = Math.min(Math.max(args.first ?? 100, 1), 500);
      // Jobs in the order the pipeline runs them.
      return paginate(jobs, (j) => ({ key: j.createdAt ? Date.parse(j.createdAt) : 0, id: entityGlobalId(j) }), { first, after: null, ascending: true });
    },
  },
  Job: {
    id: (j) => entityGlobalId(j),
    backend: (j, _, ctx) => backendOf(ctx, j.backend),
    pipeline: (j, _, ctx, info) => pipelineOfJob(j, ctx, info),
    project: (j, _, ctx, info) => projectOfEntity(j, ctx, info),
    runner: async (j, _, ctx, info) => {
      if (!j.runnerNativeId) return null;
      const backend = backendOf(ctx, j.backend);
      // A runner only its job describes (GitHub-hosted) needs no lookup: no listing holds it.
      const runner = backend.adapter.runnerFromJob?.(j)
        ?? await loadRelated(backend, () => ctx.loaders(backend).runner.load(j.runnerNativeId!), info);
      return runner && ctx.identity.scope.allowsEntity(runner) ? runner : null;
    },
    duration: (j, _, ctx) => secondsBetween(j.startedAt, j.finishedAt, ctx.now(), !isTerminal(j.status)),
    queueTime: (j, _, ctx) => secondsBetween(j.queuedAt, j.startedAt, ctx.now(), j.status === 'QUEUED' || j.status === 'PENDING'),
  },
  Step: {
    duration: (s, _, ctx) => secondsBetween(s.startedAt, s.finishedAt, ctx.now(), s.status === 'RUNNING'),
  },
  Runner: {
    id: (r) => entityGlobalId(r),
    hosted: (r) => r.hosted === true,
    backend: (r, _, ctx) => backendOf(ctx, r.backend),
    currentJob: async (r, _, ctx, info) => {
      if (!r.currentJobNativeId || r.state !== 'BUSY') return null;
      const backend = backendOf(ctx, r.backend);
      const job = await loadRelated(backend, () => ctx.loaders(backend).job.load(r.currentJobNativeId!), info);
      return job ? ((await visibleToCaller(ctx, [job]))[0] ?? null) : null;
    },
  },
};
