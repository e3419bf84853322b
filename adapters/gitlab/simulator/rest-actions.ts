/**
 * The write side of the simulated REST v4 API and the reads that go with it, answering as
 * GitLab does (lib/api/ci/pipelines.rb, lib/api/ci/jobs.rb, lib/api/deployments.rb and
 * ee/lib/ee/api/deployments.rb, ee/app/services/deployments/approval_service.rb):
 * - POST pipelines/:id/cancel → 200 and the pipeline, also when nothing was cancelable;
 * - POST pipelines/:id/retry → 201; only failed/canceled jobs are retried (none: no change);
 * - POST /pipeline → 201; an unknown ref 400 {"message":{"base":["Reference not found"]}};
 * - POST jobs/:id/cancel → 201 and the job (unchanged when finished); `force` needs `canceling`;
 * - POST jobs/:id/retry → 201 and the NEW job; not retryable → 403 "Job is not retryable";
 * - POST jobs/:id/play → 200; not playable → 400 "Unplayable Job";
 * - POST deployments/:id/approval → 201; not blocked → 400 "This deployment job is not waiting for approvals".
 */
import * as P from './payloads.ts';
import type { UrlBase } from './payloads.ts';
import { COMPLETED, type SimDeployment, type SimJob, type SimPipeline, type SimProject, type SimVariable, type WorldEvent } from './world-entities.ts';
import type { World } from './world.ts';

export interface ActionReply {
  readonly status: number;
  readonly body: unknown;
}

export class SimHttpError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(JSON.stringify(body));
  }
}

/** The spec:inputs every simulated project's .gitlab-ci.yml declares. */
export const SIM_SPEC_INPUTS: Readonly<Record<string, { default: string; options?: readonly string[] }>> = {
  environment: { default: 'staging', options: ['staging', 'production'] },
};

const DEPLOYMENT_STATUSES = ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'];

export interface ActionContext {
  readonly world: World;
  readonly base: UrlBase;
  /** Delivers the webhooks a transition causes (as for transitions the simulator makes itself). */
  readonly emit: (events: readonly WorldEvent[]) => void;
}

const fail = (status: number, body: unknown): never => {
  throw new SimHttpError(status, body);
};
const notFound = (what = 'Not found') => fail(404, { message: `404 ${what}` });

/** GET routes of this surface (deployments, pipeline variables); null when not one of them. */
export function actionReads(ctx: ActionContext, project: SimProject, parts: readonly string[], q: URLSearchParams): ActionReply | null {
  const { world, base } = ctx;
  const [, , c, d, e] = parts;
  if (c === 'pipelines' && parts.length === 5 && e === 'variables') {
    const p = pipelineIn(world, project, d);
    return { status: 200, body: (p.variables ?? []).map((v) => ({ key: v.key, variable_type: v.variable_type, value: v.value, raw: false })) };
  }
  if (c === 'deployments' && parts.length === 3) {
    const status = q.get('status');
    if (status && !DEPLOYMENT_STATUSES.includes(status)) fail(400, { error: 'status does not have a valid value' });
    const env = q.get('environment');
    const items = [...world.deployments.values()]
      .filter((x) => x.projectId === project.id && (!status || x.status === status) && (!env || x.environment === env))
      .sort((x, y) => y.id - x.id)
      .map((x) => deployment(base, world, x));
    return { status: 200, body: items };
  }
  return null;
}

/** POST routes; null when not one of them. */
export function actionWrites(ctx: ActionContext, project: SimProject, parts: readonly string[], q: URLSearchParams, body: Record<string, unknown>): ActionReply | null {
  const { world, base } = ctx;
  const [, , c, d, e] = parts;
  const param = (name: string): unknown => body[name] ?? q.get(name) ?? undefined;

  if (c === 'pipeline' && parts.length === 3) {
    const ref = param('ref');
    if (typeof ref !== 'string' || ref === '') return fail(400, { error: 'ref is missing' });
    if (!knownRefs(world, project).has(ref)) return fail(400, { message: { base: ['Reference not found'] } });
    const variables = parseVariables(body.variables);
    const inputs = body.inputs && typeof body.inputs === 'object' ? (body.inputs as Record<string, unknown>) : undefined;
    if (inputs) {
      const unknown = Object.keys(inputs).filter((k) => !Object.hasOwn(SIM_SPEC_INPUTS, k));
      if (unknown.length > 0) return fail(400, { message: { base: [`unknown input arguments: ${unknown.join(', ')}`] } });
      for (const [k, v] of Object.entries(inputs)) {
        const options = SIM_SPEC_INPUTS[k]?.options;
        if (options && !options.includes(String(v))) return fail(400, { message: { base: [`\`${k}\` input: \`${String(v)}\` cannot be used because it is not in the list of allowed options`] } });
      }
    }
    const { pipeline, events } = world.createPipeline({
      project: project.path, ref, source: 'api', variables, ...(inputs ? { inputs } : {}),
      jobs: [
        { name: 'build', stage: 'build' },
        { name: 'test', stage: 'test' },
        { name: 'deploy', stage: 'deploy', when: 'manual' },
      ],
    });
    ctx.emit(events);
    return { status: 201, body: P.pipelineDetail(base, world, pipeline) };
  }

  if (c === 'pipelines' && parts.length === 5) {
    const p = pipelineIn(world, project, d);
    if (e === 'cancel') {
      // GitLab answers 200 with the pipeline even when nothing was cancelable (API v5 will refuse).
      if (!COMPLETED.has(p.status)) ctx.emit(world.cancelPipeline(p));
      return { status: 200, body: P.pipelineDetail(base, world, p) };
    }
    if (e === 'retry') {
      ctx.emit(world.retryPipeline(p).events);
      return { status: 201, body: P.pipelineDetail(base, world, p) };
    }
    return null;
  }

  if (c === 'jobs' && parts.length === 5) {
    const job = jobIn(world, project, d);
    if (e === 'cancel') {
      if (param('force') === true || param('force') === 'true') {
        // Force-cancel moves a job in `canceling` to `canceled`; any other state is left as it is.
        if (job.status === 'canceling') ctx.emit(world.forceCancelJob(job));
      } else if (!COMPLETED.has(job.status) && job.status !== 'canceling' && job.status !== 'manual') {
        ctx.emit(world.cancelJob(job));
      }
      return { status: 201, body: P.job(base, world, job) };
    }
    if (e === 'retry') {
      // Builds and trigger jobs alike (lib/api/ci/jobs.rb: "retrying both builds and bridges").
      if (job.retried || !COMPLETED.has(job.status) || job.status === 'skipped') {
        return fail(403, { message: '403 Forbidden - Job is not retryable' });
      }
      const { job: clone, events } = world.retryJob(job);
      ctx.emit(events);
      return { status: 201, body: P.job(base, world, clone) };
    }
    if (e === 'play') {
      if (!world.playable(job)) return fail(400, { message: '400 Bad request - Unplayable Job' });
      ctx.emit(world.playJob(job, parseVariables(body.job_variables_attributes)));
      return { status: 200, body: P.job(base, world, job) };
    }
    return null;
  }

  if (c === 'deployments' && parts.length === 5 && e === 'approval') {
    const dep = /^\d+$/.test(d ?? '') ? world.deployments.get(Number(d)) : undefined;
    if (!dep || dep.projectId !== project.id) return notFound();
    const status = param('status');
    if (status !== 'approved' && status !== 'rejected') return fail(400, { error: 'status does not have a valid value' });
    if (dep.status !== 'blocked') return fail(400, { message: 'This deployment job is not waiting for approvals' });
    const comment = typeof body.comment === 'string' ? body.comment : null;
    ctx.emit(world.answerDeployment(dep, status, comment));
    const approval = dep.approvals[dep.approvals.length - 1]!;
    return { status: 201, body: { user: { id: 1, username: 'switchyard-bot', name: 'Switchyard bot', state: 'active' }, status, created_at: approval.createdAt, comment } };
  }
  return null;
}

function pipelineIn(world: World, project: SimProject, id: string | undefined): SimPipeline {
  const p = /^\d+$/.test(id ?? '') ? world.pipelines.get(Number(id)) : undefined;
  return p && p.projectId === project.id ? p : notFound();
}

function jobIn(world: World, project: SimProject, id: string | undefined): SimJob {
  const j = /^\d+$/.test(id ?? '') ? world.jobs.get(Number(id)) : undefined;
  return j && j.projectId === project.id ? j : notFound();
}

/** Branches and tags the simulated repository has: the default branch and every ref a pipeline ran on. */
function knownRefs(world: World, project: SimProject): Set<string> {
  return new Set([project.defaultBranch, ...world.pipelinesOf(project.id).map((p) => p.ref)]);
}

/** `[{key, value, variable_type?}]`; anything else is dropped (Grape would answer 400, the adapter never sends it). */
function parseVariables(raw: unknown): SimVariable[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((v) => {
    const r = v as Record<string, unknown> | null;
    if (!r || typeof r.key !== 'string') return [];
    return [{ key: r.key, value: r.value === undefined || r.value === null ? '' : String(r.value), variable_type: r.variable_type === 'file' ? 'file' : 'env_var' } as const];
  });
}

/** GET /projects/:id/deployments items (doc/api/deployments.md), with the deployable job. */
function deployment(base: UrlBase, world: World, d: SimDeployment): unknown {
  const job = world.jobs.get(d.jobId);
  const p = job ? world.pipelines.get(job.pipelineId) : undefined;
  return {
    id: d.id,
    iid: d.iid,
    ref: p?.ref ?? null,
    sha: p?.sha ?? null,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    status: d.status,
    user: p ? P.userBasic(base, p.user) : null,
    environment: { id: d.projectId * 10 + 1, name: d.environment, slug: d.environment, external_url: null, state: 'available', tier: 'production' },
    deployable: job ? P.job(base, world, job) : null,
    pending_approval_count: d.status === 'blocked' ? 1 : 0,
    approvals: d.approvals.map((a) => ({ status: a.status, comment: a.comment, created_at: a.createdAt })),
  };
}
