/**
 * A simulated GitLab CI backend: a real HTTP server speaking GitLab's REST v4
 * API for projects, pipelines, jobs, bridges and runners, plus Pipeline Hook /
 * Job Hook webhooks (secret token, optional Standard Webhooks signature).
 * Demo mode uses autoplay(); tests use the deterministic controls
 * (triggerPipeline, step, playJob, retryJob, cancelJob, faults, request log).
 */
import * as P from './payloads.ts';
import { LoopbackServer } from '../../../sim-kit/loopback-server.ts';
import { runUntilIdle } from '../../../sim-kit/sim-autoplay.ts';
import { redeliverOrThrow } from '../../../sim-kit/webhook-delivery.ts';
import { createRandom } from '../../../sim-kit/seeded-random.ts';
import { SimJobLogs } from './job-logs.ts';
import { createRestHandler, type CredentialRecord, type Fault, type RequestRecord } from './rest.ts';
import { Autoplay, randomPipelineSpec } from './scenario.ts';
import { WebhookSender, type Delivery, type WebhookTarget } from './webhook-sender.ts';
import { World } from './world.ts';
import { seedPast } from './world-past.ts';
import type {
  JobOutcome, PipelineSpec, RunnerSpec, SimDeployment, SimJob, SimPipeline, SimProject, SimRunner, WorldEvent,
} from './world-entities.ts';
import { DEFAULT_RUNNERS } from './world-seed.ts';

export type { Delivery, WebhookTarget } from './webhook-sender.ts';
export type { CredentialRecord, Fault, RequestRecord } from './rest.ts';
export type {
  JobOutcome, JobSpec, JobWhen, PipelineSpec, RunnerSpec, RunnerType, SimDeployment, SimJob, SimPipeline, SimProject, SimRunner, Status,
} from './world-entities.ts';
export { STATUSES } from './world-entities.ts';
export { compositeStatus } from './world-lifecycle.ts';
export { standardWebhookSignature, GITLAB_VERSION } from './webhook-sender.ts';

export interface GitlabSimulatorOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** When set, requests need `PRIVATE-TOKEN: X` or `Authorization: Bearer X`, else 401 {"message":"401 Unauthorized"}. */
  token?: string;
  /** When set, writes (POST) need exactly this token; the read `token` gets 403 {"message":"403 Forbidden"} on them. */
  writeToken?: string;
  /** Where to POST webhooks; none are sent without it. */
  webhook?: WebhookTarget;
  /** Seed for the deterministic RNG (ids, shas, autoplay choices, delivery UUIDs). */
  seed?: number;
  /** Default 'platform'. */
  group?: string;
  /** Project paths in the group, default ['backend','frontend','deploy']. */
  projects?: string[];
  /** Default: two online instance runners, a group arm64 runner, an offline project gpu runner, a never-contacted macOS runner. */
  runners?: RunnerSpec[];
  /** Finished pipelines per project at start (default 5). */
  history?: number;
  /**
   * Days of realistic past (default none): business-hours pipelines with job
   * retries, flaky jobs, an incident on one runner, red periods on main and a
   * starved arm64 runner (world-past.ts). Seeded before `history`.
   */
  pastDays?: number;
  now?: () => Date;
}

export interface TriggerPipelineInput extends PipelineSpec {
  project: string;
}

export interface GitlabSimulatorWorldView {
  /** Pipelines, newest first (optionally one project path); children included. Live objects: do not mutate. */
  pipelines(project?: string): readonly SimPipeline[];
  /** Jobs and bridges, oldest first (optionally one pipeline), retried ones included. */
  jobs(pipelineId?: number): readonly SimJob[];
  runners(): readonly SimRunner[];
  projects(): readonly SimProject[];
  /** Approval-blocked deployments and their answers. */
  deployments(): readonly SimDeployment[];
  readonly group: string;
  readonly groupId: number;
}

/** The job traces of the simulated world (job-logs.ts). */
export interface GitlabSimulatorLogs {
  /** Takes a job's log over before anyone reads it: empty, then only what `append` writes, and the footer once the job finished. */
  startEmpty(jobId: number): void;
  /** Exact text, as the runner would upload it. */
  append(jobId: number, text: string): void;
  /** Trace requests that reached the simulator for the job. */
  requests(jobId: number): number;
  /** Erases the trace (`POST /jobs/:id/erase`, or expiry): GitLab then serves an empty body. */
  erase(jobId: number): void;
}

export interface GitlabSimulator {
  /** API base, e.g. http://127.0.0.1:PORT/api/v4. Valid after start(). */
  readonly url: string;
  /** Web base (same host), e.g. http://127.0.0.1:PORT. */
  readonly webUrl: string;
  start(): Promise<void>;
  /** Stops autoplay, waits for in-flight webhooks, releases hung requests, closes the server. */
  stop(): Promise<void>;
  autoplay(opts?: { intervalMs?: number }): void;
  stopAutoplay(): void;
  /** Where to send webhooks from now on (null: stop sending). */
  setWebhook(target: WebhookTarget | null): void;
  /** Creates a pipeline (status `created`, its builds `created`); step() processes it. */
  triggerPipeline(input: TriggerPipelineInput): Promise<{ pipelineId: number; jobIds: number[] }>;
  /** Starts a manual job. */
  playJob(jobId: number): Promise<void>;
  /** Retries a finished job: a new job id, the old one is `retried`. The new attempt ends with `outcome` (default success). */
  retryJob(jobId: number, opts?: { outcome?: JobOutcome }): Promise<{ jobId: number }>;
  /** Cancels a job: a running one goes `canceling` (then `canceled` on a step), others `canceled`. */
  cancelJob(jobId: number): Promise<void>;
  /** Ends a running job's script now, with its outcome (step() ends the longest-untouched one first). */
  finishJob(jobId: number): Promise<void>;
  /** Cancels every unfinished job of a pipeline. */
  cancelPipeline(pipelineId: number): Promise<void>;
  /** One transition; false if nothing can move without a human (manual jobs) or a runner. */
  step(): Promise<boolean>;
  runUntilIdle(maxSteps?: number): Promise<void>;
  /** Online/offline and pause flips by runner description (a busy runner cannot go offline). */
  setRunnerStatus(description: string, s: { online?: boolean; paused?: boolean }): void;
  readonly deliveries: ReadonlyArray<Delivery>;
  /** Resends with the same body and Idempotency-Key (new X-Gitlab-Webhook-UUID); resolves with the HTTP status. */
  redeliver(id: string): Promise<number>;
  /** Every REST request (path with query); hung ones recorded with status 0. */
  readonly requests: ReadonlyArray<RequestRecord>;
  resetRequests(): void;
  /** Which credential (read, write, other, none) every REST request carried, in order; cleared by resetRequests(). */
  readonly credentials: ReadonlyArray<CredentialRecord>;
  setFault(fault: Fault | null): void;
  readonly logs: GitlabSimulatorLogs;
  readonly world: GitlabSimulatorWorldView;
}

export function createGitlabSimulator(options: GitlabSimulatorOptions = {}): GitlabSimulator {
  const now = options.now ?? (() => new Date());
  const seed = options.seed ?? Date.now();
  const random = createRandom(seed);
  // Delivery UUIDs come from their own stream so configuring a webhook never changes the world.
  const deliveryIds = createRandom(seed ^ 0x5bd1e995);
  // Per-attempt UUIDs are drawn when a send starts; their own stream keeps the other ids independent of network timing.
  const attemptIds = createRandom(seed ^ 0x2545f491);
  const world = new World({
    group: options.group ?? 'platform',
    projects: options.projects ?? ['backend', 'frontend', 'deploy'],
    runners: options.runners ?? DEFAULT_RUNNERS,
    now,
    random,
  });
  if (options.pastDays !== undefined && options.pastDays > 0) seedPast(world, { days: options.pastDays, seed, nowMs: now().getTime() });
  world.seedHistory(options.history ?? 5, (project) => randomPipelineSpec(random, project, { history: true }));

  const credentials: CredentialRecord[] = [];
  // Its own seed stream: reading a log never changes the world's ids or choices.
  const logs = new SimJobLogs(seed ^ 0x6c6f6773);
  const loop = new LoopbackServer({
    port: options.port,
    handler: (req, res) => handler(req, res),
    crashReply: (err) => ({ contentType: 'application/json', body: JSON.stringify({ message: `500 Internal Server Error: ${String(err)}` }) }),
  });
  const base = (): P.UrlBase => ({ api: `${loop.origin}/api/v4`, web: loop.origin });

  let sender: WebhookSender | undefined;
  const setWebhook = (target: WebhookTarget | null) => {
    sender = target
      ? new WebhookSender({ target, instance: () => loop.origin, now, uuid: () => attemptIds.uuid() })
      : undefined;
  };
  if (options.webhook) setWebhook(options.webhook);

  const handler = createRestHandler({
    world, base, token: options.token, writeToken: options.writeToken, now, fault: loop.fault, record: loop.record, hung: loop.hung,
    // Webhooks of an action's transitions go out like those of the simulator's own steps.
    emit: (events) => void emit(events),
    credential: (r) => credentials.push(r),
    logs,
  });

  /** Builds every body now (a snapshot of this transition), then delivers them in order. */
  const emit = async (events: readonly WorldEvent[]): Promise<void> => {
    const target = sender;
    if (!target) return;
    const sends = events.flatMap((ev) => {
      if (ev.kind === 'job') {
        const job = world.jobs.get(ev.jobId);
        if (!job || job.kind !== 'build') return [];
        const key = deliveryIds.uuid();
        return [target.enqueue(key, deliveryIds.uuid(), 'Job Hook', JSON.stringify(P.jobHook(base(), world, job)))];
      }
      const p = world.pipelines.get(ev.pipelineId);
      if (!p) return [];
      const key = deliveryIds.uuid();
      return [target.enqueue(key, deliveryIds.uuid(), 'Pipeline Hook', JSON.stringify(P.pipelineHook(base(), world, p)))];
    });
    await Promise.all(sends);
  };

  const autoplay = new Autoplay({
    world, random, emit,
    onError: (err) => process.emitWarning(`gitlab simulator autoplay: ${String(err)}`),
  });

  const step = async (): Promise<boolean> => {
    const t = world.transitions()[0];
    if (!t) return false;
    await emit(world.apply(t));
    return true;
  };

  const job = (id: number): SimJob => {
    const j = world.jobs.get(id);
    if (!j) throw new Error(`unknown job ${id}`);
    return j;
  };

  return {
    get url() {
      return `${loop.origin}/api/v4`;
    },
    get webUrl() {
      return loop.origin;
    },
    start: () => loop.start(),
    async stop() {
      autoplay.stop();
      await sender?.drain();
      await loop.stop();
    },
    autoplay(opts) {
      autoplay.start(opts?.intervalMs ?? 1000);
    },
    stopAutoplay() {
      autoplay.stop();
    },
    setWebhook,
    async triggerPipeline(input) {
      const { pipeline, events } = world.createPipeline(input);
      await emit(events);
      return { pipelineId: pipeline.id, jobIds: [...pipeline.jobIds] };
    },
    async playJob(jobId) {
      await emit(world.playJob(job(jobId)));
    },
    async retryJob(jobId, opts) {
      const { job: clone, events } = world.retryJob(job(jobId), opts?.outcome);
      await emit(events);
      return { jobId: clone.id };
    },
    async cancelJob(jobId) {
      await emit(world.cancelJob(job(jobId)));
    },
    async finishJob(jobId) {
      await emit(world.finishJob(job(jobId)));
    },
    async cancelPipeline(pipelineId) {
      const p = world.pipelines.get(pipelineId);
      if (!p) throw new Error(`unknown pipeline ${pipelineId}`);
      await emit(world.cancelPipeline(p));
    },
    step,
    runUntilIdle: (maxSteps) => runUntilIdle(step, maxSteps),
    setRunnerStatus(description, s) {
      const r = world.runners.find((x) => x.description === description);
      if (!r) throw new Error(`unknown runner ${description}`);
      world.setRunnerStatus(r, s);
    },
    get deliveries() {
      return sender?.deliveries ?? [];
    },
    redeliver: (id) => redeliverOrThrow(sender, id),
    get requests() {
      return loop.requests;
    },
    resetRequests: () => {
      loop.resetRequests();
      credentials.length = 0;
    },
    get credentials() {
      return credentials;
    },
    setFault: (f) => loop.setFault(f),
    logs: {
      startEmpty: (jobId) => logs.startEmpty(job(jobId).id),
      append: (jobId, text) => logs.append(job(jobId).id, text, now().getTime()),
      requests: (jobId) => logs.requestsFor(jobId),
      erase: (jobId) => logs.erase(job(jobId).id),
    },
    world: {
      pipelines: (project) => {
        if (project === undefined) return [...world.pipelines.values()].sort((a, b) => b.id - a.id);
        const p = world.projectByPath(project);
        return p ? world.pipelinesOf(p.id) : [];
      },
      jobs: (pipelineId) => (pipelineId === undefined ? [...world.jobs.values()].sort((a, b) => a.id - b.id) : world.jobsOf(pipelineId)),
      runners: () => world.runners,
      projects: () => world.projects,
      deployments: () => [...world.deployments.values()],
      get group() {
        return world.group;
      },
      get groupId() {
        return world.groupId;
      },
    },
  };
}
