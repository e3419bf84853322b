import type { ActionCall, ActionInputValue, ActionKind, ActionOutcome, ActionRequest } from '../adapter-contract.ts';
import { auditIdentity } from '../plugins/use-audit.ts';
import { redactSecrets } from '../audit/redact.ts';
import type { ActionAuditEntry } from '../audit/audit-record.ts';
import type { BackendEntry } from '../backend-registry.ts';
import type { GatewayContext } from '../context.ts';
import { ErrorCode, gatewayError } from '../errors.ts';
import { fromGlobalId, type GlobalIdParts } from '../ids.ts';
import type { EntityModel, JobModel, PipelineModel, ProjectModel } from '../model.ts';
import { listProjects, visibleToCaller } from '../resolvers/backend-calls.ts';
import { ActionCode, ActionFailure, fail, toActionError, type ActionErrorModel } from './action-error.ts';
import { actionScope, PERMISSION_OF, TARGET_TYPES } from './action-permissions.ts';
import type { ActionServices } from './action-services.ts';
import type { FollowTarget } from './follow-up.ts';
import { claimIdempotencyKey, idempotencyScope, inputFingerprint, MAX_IDEMPOTENCY_KEY_LENGTH, type StoredOutcome } from './idempotency.ts';
import { validateInputs } from './validate-inputs.ts';

/** One mutation's arguments, normalized. */
export interface ActionArgs {
  readonly kind: ActionKind;
  /** The target's global id (a Project for triggers). */
  readonly id: string;
  readonly idempotencyKey: string | null;
  readonly dryRun: boolean;
  readonly clientMutationId: string | null;
  /** Options recorded and fingerprinted (force, failedOnly, ref, workflow, comment). */
  readonly options: Readonly<Record<string, string | boolean | null>>;
  readonly inputs: Readonly<Record<string, ActionInputValue>>;
  /** The request sent to the adapter, from the decoded target. */
  build(target: ResolvedTarget): ActionRequest;
}

export interface ResolvedTarget {
  readonly parts: GlobalIdParts;
  readonly backend: BackendEntry;
  readonly entity: ProjectModel | PipelineModel | JobModel;
}

/** What every payload carries, before the GraphQL field resolvers. */
export interface ActionPayloadModel {
  readonly clientMutationId: string | null;
  readonly dryRun: boolean;
  readonly replayed: boolean;
  readonly upstream: { readonly backend: BackendEntry; readonly calls: readonly ActionCall[] } | null;
  readonly errors: readonly ActionErrorModel[];
  readonly pipeline: PipelineModel | null;
  readonly job: JobModel | null;
}

type Outcome = ActionAuditEntry['outcome'];

/**
 * Runs one action through every check, in an order that sends nothing upstream for what can be
 * refused first: transport, id, permission (no read when no grant could allow it), target
 * (loaded and visible), permission on its project, write credentials, support, declared inputs,
 * idempotency; then the plan (dry run) or the write, the re-read, the follow-up and the audit.
 */
export async function runAction(ctx: GatewayContext, args: ActionArgs): Promise<ActionPayloadModel> {
  const startedAt = Date.now();
  const services = ctx.actions;
  const transport = ctx.transport ?? 'http';
  let backend: BackendEntry | null = null;
  let nativeId: string | null = null;
  let calls: readonly ActionCall[] = [];
  const audit = (outcome: Outcome, errorCode: string | null) => services?.audit.append({
    kind: 'action', identity: auditIdentity(ctx.identity), action: args.kind,
    target: { id: String(args.id).slice(0, 1024), nativeId }, backend: backend?.name ?? null,
    inputs: redactSecrets({ ...args.options, inputs: args.inputs }),
    idempotencyKey: args.idempotencyKey, calls: calls.map((c) => ({ ...c })), outcome, errorCode, transport, durationMs: Date.now() - startedAt,
  });
  const payload = (p: Partial<ActionPayloadModel>): ActionPayloadModel => ({
    clientMutationId: args.clientMutationId, dryRun: false, replayed: false, upstream: null, errors: [], pipeline: null, job: null, ...p,
  });

  // Refused outright, not in the payload: an event stream is for reading (a proxy may replay it).
  if (transport === 'sse') {
    audit('denied', ErrorCode.BadRequest);
    throw gatewayError(ErrorCode.BadRequest, `${args.kind}: mutations are not accepted over SSE (text/event-stream); send them as a POST answered with JSON, or over WebSocket`, { extensions: { http: { status: 405 } } });
  }
  try {
    if (!services) fail(ActionCode.NotConfigured, 'actions are not available in this gateway');
    if (args.idempotencyKey !== null && (args.idempotencyKey.length === 0 || args.idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      fail(ActionCode.InvalidInput, `idempotencyKey: expected 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, received ${args.idempotencyKey.length}`, { input: 'idempotencyKey' });
    }
    const target = await resolveTarget(ctx, args, (b, id) => {
      backend = b;
      nativeId = id;
    });
    const actions = target.backend.adapter.actions;
    const b = target.backend;
    if (!actions) {
      fail(ActionCode.NotConfigured, `backend "${b.name}" has no write credentials: set backends[${services.backendIndex(b.name)}].writeToken (read credentials are never used for actions)`, { backend: b.name });
    }
    if (!actions.supported[args.kind]) fail(ActionCode.NotSupported, `backend "${b.name}" (${b.adapter.provider}) cannot ${args.kind}`, { backend: b.name });
    const request = args.build(target);
    if (request.kind === 'triggerPipeline' && actions.declaredInputs) {
      const declared = await b.policy.execute(
        (signal) => actions.declaredInputs!({ projectNativeId: request.projectNativeId, ref: request.ref, workflow: request.workflow }, signal),
        { deadlineMs: services.actionTimeoutMs, what: 'reading declared inputs' },
      );
      const problem = declared ? validateInputs(declared, request.inputs) : null;
      if (problem) fail(ActionCode.InvalidInput, `[${b.name}] ${problem.message}`, { backend: b.name, input: problem.input });
    }

    const key = args.idempotencyKey === null ? null : idempotencyScope(ctx.identity.id, args.kind, args.idempotencyKey);
    const fingerprint = inputFingerprint(args);
    if (args.dryRun) {
      const held = key ? await services.idempotency.peek(key) : null;
      if (held && held.fingerprint !== fingerprint) fail(ActionCode.IdempotencyConflict, 'idempotencyKey was already used with a different input');
      calls = actions.plan(request).map(({ method, path }) => ({ method, path }));
      audit('dry-run', null);
      return payload({ dryRun: true, upstream: { backend: b, calls }, ...entitiesOf(target) });
    }

    const claim = key ? await claimIdempotencyKey(services, key, fingerprint) : null;
    if (claim?.status === 'done') {
      const stored = JSON.parse(claim.outcome) as StoredOutcome;
      calls = stored.calls;
      audit('replayed', stored.errors[0]?.code ?? null);
      return payload({ replayed: true, upstream: { backend: b, calls }, errors: stored.errors, ...(await storedEntities(ctx, b, stored, target)) });
    }

    const before = entitiesOf(target);
    const startedAction = services.now();
    let outcome: ActionOutcome;
    try {
      outcome = await actions.perform(request, AbortSignal.timeout(services.actionTimeoutMs));
    } catch (error) {
      const typed = toActionError(error, b.name);
      const detail = error as { details?: { method?: string; path?: string; status?: number; calls?: readonly ActionCall[] } };
      calls = detail.details?.calls ?? (detail.details?.path && detail.details.method ? [{ method: detail.details.method as ActionCall['method'], path: detail.details.path, ...(detail.details.status !== undefined ? { status: detail.details.status } : {}) }] : []);
      if (key && claim?.status === 'claimed') await services.idempotency.complete(key, claim.token, fingerprint, JSON.stringify({ errors: [typed], calls, pipeline: null, job: null } satisfies StoredOutcome), ttl(services));
      audit(typed.code === ActionCode.UpstreamUnavailable || typed.code === ActionCode.UpstreamRateLimited ? 'error' : 'refused', typed.code);
      return payload({ upstream: { backend: b, calls }, errors: [typed], ...before });
    }
    calls = outcome.calls;
    if (outcome.entities && outcome.entities.length > 0) ctx.ingestor.ingest(outcome.entities.filter((e) => b.adapter.owns(e)), { source: 'POLL', publishNew: true });
    const follow = followTarget(b, request, outcome, before, startedAction, ctx.state);
    const after = await reread(ctx, follow, before);
    if (key && claim?.status === 'claimed') {
      await services.idempotency.complete(key, claim.token, fingerprint, JSON.stringify({ errors: [], calls, pipeline: after.pipeline?.nativeId ?? follow.pipelineNativeId, job: after.job?.nativeId ?? null } satisfies StoredOutcome), ttl(services));
    }
    audit('ok', null);
    return payload({ upstream: { backend: b, calls }, ...after });
  } catch (error) {
    if (!(error instanceof ActionFailure) && !isUpstreamRead(error)) {
      // A fault of ours: still one audit record, then the usual (masked) top-level error.
      audit('error', null);
      throw error;
    }
    const typed = toActionError(error, (backend as BackendEntry | null)?.name ?? null);
    audit(outcomeOfRefusal(typed.code), typed.code);
    return payload({ errors: [typed] });
  }
}

const ttl = (services: ActionServices) => services.idempotencyTtlMs;

function isUpstreamRead(error: unknown): boolean {
  return error instanceof Error && (error.name === 'UpstreamError' || error.name === 'ActionRefusedError');
}

function outcomeOfRefusal(code: string): Outcome {
  if (code === ActionCode.Forbidden || code === ActionCode.NotFound) return 'denied';
  if (code === ActionCode.IdempotencyConflict) return 'conflict';
  if (code === ActionCode.UpstreamUnavailable || code === ActionCode.UpstreamRateLimited) return 'error';
  return 'refused';
}

function entitiesOf(target: ResolvedTarget): { pipeline: PipelineModel | null; job: JobModel | null } {
  const e = target.entity;
  return { pipeline: e.type === 'Pipeline' ? e : null, job: e.type === 'Job' ? e : null };
}

/** Decodes and loads the target, checking the permission before any read it can decide without one. */
async function resolveTarget(ctx: GatewayContext, args: ActionArgs, found: (backend: BackendEntry, nativeId: string) => void): Promise<ResolvedTarget> {
  const parts = fromGlobalId(args.id);
  const types = TARGET_TYPES[args.kind];
  const what = types.join(' or ');
  if (!parts || !types.includes(parts.type)) fail(ActionCode.NotFound, `${args.kind}: expected a ${what} id, received ${parts ? `a ${parts.type} id` : 'an id that is not one'}`);
  // Backends outside the caller's scope are not in its registry: they do not exist for it.
  const backend = ctx.registry.get(parts.backend);
  if (!backend) fail(ActionCode.NotFound, `${args.kind}: no ${what} with this id`);
  found(backend, parts.nativeId);
  const permission = PERMISSION_OF[args.kind];
  const scope = actionScope(ctx);
  const reach = scope ? scope.actionReach(permission, backend.name) : 'none';
  if (reach === 'none') fail(ActionCode.Forbidden, `${args.kind} needs the "${permission}" action on backend "${backend.name}", which no grant of this caller allows`, { backend: backend.name });
  const loaders = ctx.loaders(backend);
  const loaded: EntityModel | null = parts.type === 'Project' ? await loaders.project.load(parts.nativeId)
    : parts.type === 'Pipeline' ? await loaders.pipeline.load(parts.nativeId)
      : await loaders.job.load(parts.nativeId);
  const visible = loaded && backend.adapter.owns(loaded) ? (await visibleToCaller(ctx, [loaded]))[0] : null;
  if (!visible || (visible.type !== 'Project' && visible.type !== 'Pipeline' && visible.type !== 'Job')) fail(ActionCode.NotFound, `${args.kind}: no ${what} with this id`, { backend: backend.name });
  const projectNativeId = visible.type === 'Project' ? visible.nativeId : visible.projectNativeId;
  let fullName = visible.type === 'Project' ? visible.fullName : ctx.state.get('Project', backend.name, projectNativeId)?.fullName;
  if (reach === 'some' && !fullName) fullName = (await listProjects(ctx, backend).catch(() => [])).find((p) => p.nativeId === projectNativeId)?.fullName;
  if (!scope!.allowsAction(permission, backend.name, [projectNativeId, fullName])) {
    fail(ActionCode.Forbidden, `${args.kind} needs the "${permission}" action on project "${fullName ?? projectNativeId}" of backend "${backend.name}", which no grant of this caller allows`, { backend: backend.name });
  }
  return { parts, backend, entity: visible };
}

function followTarget(backend: BackendEntry, request: ActionRequest, outcome: ActionOutcome, before: { pipeline: PipelineModel | null; job: JobModel | null }, startedAt: Date, state: GatewayContext['state']): FollowTarget {
  // A job action the upstream answers without a pipeline is followed through the job's own pipeline.
  const targetPipeline = before.pipeline?.nativeId ?? before.job?.pipelineNativeId ?? null;
  const pipelineNativeId = outcome.pipelineNativeId ?? (request.kind === 'triggerPipeline' ? null : targetPipeline);
  const samePipeline = pipelineNativeId !== null && pipelineNativeId === targetPipeline;
  const beforePipeline = samePipeline ? (before.pipeline ?? (state.get('Pipeline', backend.name, pipelineNativeId) as PipelineModel | undefined) ?? null) : null;
  const jobId = outcome.jobNativeId ?? before.job?.nativeId ?? null;
  return {
    backend,
    pipelineNativeId,
    before: beforePipeline,
    ...(jobId ? { job: { nativeId: jobId, before: jobId === before.job?.nativeId ? before.job : null } } : {}),
    // A cancel or a reject ends its target: followed until it has, not only until it moves.
    ...(request.kind === 'cancelPipeline' || request.kind === 'cancelJob' || request.kind === 'reject' ? { untilFinished: true } : {}),
    ...(request.kind === 'triggerPipeline' && pipelineNativeId === null
      // A second's slack: the upstream's clock stamps the new pipeline, not ours.
      ? { trigger: { projectNativeId: request.projectNativeId, ref: request.ref, after: new Date(startedAt.getTime() - 1000) } } : {}),
  };
}

/** The affected entities as the gateway sees them now: one re-read, ingested; the follow-up goes on in the background. */
async function reread(ctx: GatewayContext, follow: FollowTarget, before: { pipeline: PipelineModel | null; job: JobModel | null }): Promise<{ pipeline: PipelineModel | null; job: JobModel | null }> {
  const followUps = ctx.actions!.followUps;
  let pipeline: PipelineModel | null = null;
  let done = false;
  try {
    ({ pipeline, done } = await followUps.readNow(follow));
  } catch {
    // The action happened; the follow-up (and webhooks, polls) still bring the state.
  }
  if (!done) followUps.start(follow);
  const jobId = follow.job?.nativeId;
  const job = jobId ? ((ctx.state.get('Job', follow.backend.name, jobId) as JobModel | undefined) ?? before.job) : null;
  return { pipeline: pipeline ?? (follow.pipelineNativeId === null ? null : before.pipeline), job };
}

/** A replay's entities, as the gateway sees them now (live state first, else the loaders). */
async function storedEntities(ctx: GatewayContext, backend: BackendEntry, stored: StoredOutcome, target: ResolvedTarget): Promise<{ pipeline: PipelineModel | null; job: JobModel | null }> {
  const fallback = entitiesOf(target);
  const loaders = ctx.loaders(backend);
  const pipeline = stored.pipeline ? await loaders.pipeline.load(stored.pipeline).catch(() => null) : fallback.pipeline;
  const job = stored.job ? await loaders.job.load(stored.job).catch(() => null) : fallback.job;
  return { pipeline: pipeline ?? null, job: job ?? null };
}
