/**
 * A simulated Buildkite organization: a real HTTP server speaking the REST v2
 * API (pipelines, builds, jobs, logs, agents, write actions) with token scopes
 * and the organization rate limit, plus signed webhooks. Demo mode uses
 * autoplay(); tests use the deterministic controls (triggerBuild, step,
 * unblock, loseAgent, faults, request log).
 */
import { LoopbackServer } from '../../../sim-kit/loopback-server.ts';
import { createRandom } from '../../../sim-kit/seeded-random.ts';
import { runUntilIdle } from '../../../sim-kit/sim-autoplay.ts';
import type { SimFault } from '../../../sim-kit/sim-faults.ts';
import { ALL_SCOPES, createHttpHandler, type RequestRecord, type SimToken } from './http.ts';
import { JobLogs, type LogMode } from './job-logs.ts';
import { pingBody, webhookBody, type UrlBase } from './payloads.ts';
import { Autoplay } from './scenario.ts';
import { WebhookSender, type Delivery, type WebhookTarget } from './webhook-sender.ts';
import { type AgentSpec, type JobOutcome, type SimAgent, type SimBuild, type SimJob, type WorldEvent } from './world-entities.ts';
import { seedPast } from './world-past.ts';
import { ACTORS, DEFAULT_AGENTS } from './world-seed.ts';
import { World } from './world.ts';

export type { Fault, RequestRecord, Scope, SimToken } from './http.ts';
export type { Delivery, WebhookTarget } from './webhook-sender.ts';
export { signatureHeader } from './webhook-sender.ts';
export type {
  AgentSpec, BuildState, ConnectionState, JobOutcome, JobState, JobType, SimAgent, SimBuild, SimJob, SimPipeline, StepDef, WorldEvent,
} from './world-entities.ts';
export { SimRefusal } from './world.ts';

export interface BuildkiteSimulatorOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Seed for the deterministic RNG (ids, shas, history, autoplay). */
  seed?: number;
  /** Organization slug (default 'acme'). */
  organization?: string;
  /** Bearer token with every scope (default 'bk-sim-token'). Missing or unknown token → 401. */
  token?: string;
  /** More tokens with only these scopes; a request needing another scope → 403. */
  tokens?: { token: string; scopes: string[] }[];
  /** 'default': web (parallel tests, soft fail), api (deploy: concurrency group, branch filter), ios (block step), release (trigger), docs (main only). N: N small pipelines. */
  pipelines?: 'default' | number;
  /** Default: four linux agents on queue=default, deploy-1 (queue=deploy), mac-mini-1 (queue=macos), one disconnected, one never connected. */
  agents?: AgentSpec[];
  /** Finished builds per pipeline pre-created (default 3); the last round loses an agent mid-job. */
  history?: number;
  /** Days of seeded realistic past (world-past.ts); default none. Seeded before `history`. */
  pastDays?: number;
  /** Organization REST limit (default 200 per 60 s, Buildkite's default). */
  rateLimit?: { limit: number; windowSeconds: number };
  /** Per-user (per-token) limit with RateLimit-User-* headers; default none (Buildkite's is 50 per 60 s). */
  userRateLimit?: { limit: number; windowSeconds: number };
  now?: () => Date;
  /** Web UI host for web_url fields (default https://buildkite.com). */
  webUrl?: string;
  /** Job logs: 'scripted' (default) realistic and growing; 'exact' only what appendLog writes, then the footer. */
  logs?: LogMode;
}

export interface TriggerBuildInput {
  pipeline: string;
  branch?: string;
  commit?: string;
  message?: string;
  env?: Record<string, string>;
  metaData?: Record<string, string>;
  /** Outcome per step key (e.g. `{ test: 'failed' }`), overriding the pipeline's defaults. */
  outcomes?: Record<string, JobOutcome>;
  source?: SimBuild['source'];
}

export interface BuildkiteSimulator {
  /** API origin, e.g. http://127.0.0.1:PORT (REST under `${url}/v2/...`). */
  readonly url: string;
  readonly organization: string;
  /** Every request (path with query) in arrival order; hung ones with status 0. */
  readonly requests: readonly RequestRecord[];
  /** Which token each request carried (null: none or unknown), in arrival order. */
  readonly tokenLog: readonly { method: string; path: string; token: string | null }[];
  resetRequests(): void;
  /** Webhook deliveries sent, in order. */
  readonly deliveries: readonly Delivery[];
  addWebhook(target: WebhookTarget): void;
  /** Sends `ping` (Buildkite sends it when a webhook's settings change) to every webhook; resolves once sent. */
  ping(): Promise<void>;
  clearWebhooks(): void;
  /** Creates a build (as the API would, `source: api` unless said), scheduled; jobs move on step(). */
  triggerBuild(p: TriggerBuildInput): SimBuild;
  /** Advances every live build one lifecycle step (and stopping agents); resolves after its webhooks were sent. */
  step(): Promise<boolean>;
  runUntilIdle(maxSteps?: number): Promise<void>;
  build(pipeline: string, number: number): SimBuild;
  /** Builds newest first (optionally of one pipeline). Live objects: do not mutate. */
  builds(pipeline?: string): readonly SimBuild[];
  job(id: string): SimJob;
  readonly agents: readonly SimAgent[];
  agent(name: string): SimAgent;
  /** Cancels as PUT …/cancel does (throws SimRefusal where the API answers 422). */
  cancel(pipeline: string, number: number): Promise<void>;
  /** Unblocks the build's blocked block step as PUT …/unblock does. */
  unblock(pipeline: string, number: number, fields?: Record<string, string>): Promise<SimJob>;
  retryJob(jobId: string, outcome?: JobOutcome): Promise<SimJob>;
  /** The agent stops heart-beating: `lost`; its running job fails with exit status -1. */
  loseAgent(name: string): Promise<void>;
  connectAgent(name: string): Promise<void>;
  /** Idle: disconnects; busy: `stopping` until its job ends, then `stopped`. */
  stopAgent(name: string): Promise<void>;
  /** Appends exact text to a running job's log (as the agent uploads it). */
  appendLog(jobId: string, text: string): void;
  injectFault(fault: SimFault | null): void;
  /** Realistic traffic with webhooks, one transition per tick. */
  autoplay(opts?: { intervalMs?: number }): { stop(): void };
  /** Waits for queued webhook deliveries. */
  drain(): Promise<void>;
  /** Stops autoplay, waits for deliveries, releases hung requests, closes the server. */
  close(): Promise<void>;
  readonly world: World;
}

export async function createBuildkiteSimulator(options: BuildkiteSimulatorOptions = {}): Promise<BuildkiteSimulator> {
  const now = options.now ?? (() => new Date());
  const seed = options.seed ?? Date.now() % 1_000_000;
  const random = createRandom(seed);
  const organization = options.organization ?? 'acme';
  const world = new World({
    now, random, organization, pipelines: options.pipelines ?? 'default', agents: options.agents ?? DEFAULT_AGENTS,
  });
  const past = options.pastDays !== undefined && options.pastDays > 0;
  if (past) seedPast(world, { days: options.pastDays!, seed, nowMs: now().getTime() });
  world.seedHistory(options.history ?? 3);

  const tokens: SimToken[] = [
    { token: options.token ?? 'bk-sim-token', scopes: [...ALL_SCOPES] },
    ...(options.tokens ?? []).map((t) => ({ token: t.token, scopes: [...t.scopes] })),
  ];
  const loop = new LoopbackServer({
    port: options.port,
    handler: (req, res) => handler(req, res),
    crashReply: (err) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify({ message: `Simulator error: ${String(err)}` }) }),
  });
  const base = (): UrlBase => ({ api: `${loop.origin}/v2`, web: options.webUrl ?? 'https://buildkite.com', org: organization });
  const sender = new WebhookSender(now);
  const emit = async (events: readonly WorldEvent[]): Promise<void> => {
    if (sender.size === 0) return;
    // Bodies are rendered when queued: like Buildkite, a fast build may show a later state than the event.
    await Promise.all(events.map((ev) => sender.send(ev.event, JSON.stringify(webhookBody(base(), ev, world)))));
  };
  const logs = new JobLogs(options.logs ?? 'scripted', seed);
  const tokenLog: { method: string; path: string; token: string | null }[] = [];
  const handler = createHttpHandler({
    world, base, tokens, now, logs,
    rateLimit: options.rateLimit ?? { limit: 200, windowSeconds: 60 },
    userRateLimit: options.userRateLimit,
    emit: (events) => void emit(events),
    noteToken: (r) => tokenLog.push(r),
    fault: loop.fault, record: loop.record, hung: loop.hung,
  });
  await loop.start();

  const step = async (): Promise<boolean> => {
    const before = world.version;
    const events = world.stepAll();
    await emit(events);
    return world.version !== before;
  };
  const autoplay = new Autoplay({
    world, random, emit, keepBuilds: past ? 500 : 40,
    onError: (err) => process.emitWarning(`buildkite simulator autoplay: ${String(err)}`),
  });
  const findJob = (id: string) => {
    const found = world.job(id);
    if (!found) throw new Error(`unknown job ${id}`);
    return found;
  };
  const me = ACTORS[0]!;

  return {
    get url() {
      return loop.origin;
    },
    organization,
    get requests() {
      return loop.requests;
    },
    tokenLog,
    resetRequests() {
      loop.resetRequests();
      tokenLog.length = 0;
    },
    get deliveries() {
      return sender.deliveries;
    },
    addWebhook: (target) => sender.add(target),
    ping: () => sender.send('ping', (target) => JSON.stringify(pingBody(world, target.url))),
    clearWebhooks: () => sender.clear(),
    triggerBuild(p) {
      const made = world.createBuild(world.findPipeline(p.pipeline), {
        ...(p.branch !== undefined ? { branch: p.branch } : {}),
        ...(p.commit !== undefined ? { commit: p.commit } : {}),
        ...(p.message !== undefined ? { message: p.message } : {}),
        ...(p.env ? { env: p.env } : {}),
        ...(p.metaData ? { metaData: p.metaData } : {}),
        ...(p.outcomes ? { outcomes: p.outcomes } : {}),
        source: p.source ?? 'api',
      });
      void emit(made.events);
      return made.build;
    },
    step,
    runUntilIdle: (maxSteps) => runUntilIdle(step, maxSteps),
    build: (pipeline, number) => world.findBuild(pipeline, number),
    builds: (pipeline) => (pipeline === undefined ? world.allBuilds() : [...(world.builds.get(world.findPipeline(pipeline).slug) ?? [])].reverse()),
    job: (id) => findJob(id).job,
    get agents() {
      return world.agents;
    },
    agent: (name) => world.agentByName(name),
    async cancel(pipeline, number) {
      await emit(world.cancel(world.findBuild(pipeline, number), me));
    },
    async unblock(pipeline, number, fields) {
      const build = world.findBuild(pipeline, number);
      const job = build.jobs.find((j) => j.type === 'manual' && j.state === 'blocked');
      if (!job) throw new Error(`${pipeline}#${number} has no blocked step`);
      await emit(world.unblock(build, job, me, fields ?? null));
      return job;
    },
    async retryJob(jobId, outcome) {
      const { build, job } = findJob(jobId);
      const done = world.retry(build, job, me, outcome);
      await emit(done.events);
      return done.job;
    },
    async loseAgent(name) {
      await emit(world.loseAgent(world.agentByName(name)));
    },
    async connectAgent(name) {
      await emit(world.connectAgent(name));
    },
    async stopAgent(name) {
      await emit(world.stopAgent(name));
    },
    appendLog(jobId, text) {
      logs.append(findJob(jobId).job, text, now().getTime());
    },
    injectFault: (fault) => loop.setFault(fault),
    autoplay(opts) {
      autoplay.start(opts?.intervalMs ?? 1000);
      return { stop: () => autoplay.stop() };
    },
    drain: () => sender.drain(),
    async close() {
      autoplay.stop();
      await sender.drain();
      await loop.stop();
    },
    world,
  };
}

