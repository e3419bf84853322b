/**
 * A simulated GitHub Actions backend: a real HTTP server speaking the GitHub
 * REST API for runs, jobs and runners, plus signed `workflow_run` /
 * `workflow_job` webhooks. Demo mode uses autoplay(); integration tests use
 * the deterministic controls (triggerRun, step, faults, request log).
 */
import * as P from './payloads.ts';
import { LoopbackServer } from '../../../sim-kit/loopback-server.ts';
import { runUntilIdle } from '../../../sim-kit/sim-autoplay.ts';
import { redeliverOrThrow } from '../../../sim-kit/webhook-delivery.ts';
import { createRandom } from '../../../sim-kit/seeded-random.ts';
import { SimJobLogs, type BlobRequestRecord } from './job-logs.ts';
import { createRestHandler, type CredentialRecord, type Fault, type RequestRecord } from './rest.ts';
import { Autoplay, randomRunSpec } from './scenario.ts';
import { WebhookSender, type Delivery } from './webhook-sender.ts';
import { ActionWorld } from './world-actions.ts';
import { seedPast } from './world-past.ts';
import type { JobOutcome, RunnerSpec, SimJob, SimRun, SimRunner, WorldEvent } from './world-entities.ts';
import { DEFAULT_RUNNERS } from './world-seed.ts';

export type { Delivery } from './webhook-sender.ts';
export type { CredentialRecord, Fault, RequestRecord } from './rest.ts';
export type { BlobRequestRecord } from './job-logs.ts';
export type { JobOutcome, SimJob, SimRun, SimRunner } from './world-entities.ts';
export { signature } from './webhook-sender.ts';

export interface GithubSimulatorOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** When set, requests need `Authorization: token X` or `Bearer X`, else 401 Bad credentials. */
  token?: string;
  /**
   * The token allowed to write (actions:write, deployments). When set, write endpoints answer the
   * read token 403 "Resource not accessible by integration"; reads accept either token.
   */
  writeToken?: string;
  /** Refuse `return_run_details` on dispatch (422), as GitHub Enterprise Server before that feature does. */
  legacyDispatch?: boolean;
  /** Where to POST signed webhooks; none are sent without it. */
  webhook?: { url: string; secret: string };
  /** Seed for the deterministic RNG (ids, shas, autoplay choices). */
  seed?: number;
  /** Default 'octo-org'. */
  org?: string;
  /** Repo names under org, default ['api','web','infra']. */
  repositories?: string[];
  /** Default: three online Linux org runners (x64, x64, arm64) and one offline macOS runner. */
  runners?: RunnerSpec[];
  /** Completed runs pre-created per repo at start (default 5). */
  history?: number;
  /**
   * Days of realistic past (default none): business-hours runs with re-run
   * attempts, flaky jobs, an incident on one runner, red periods on main and a
   * starved arm64 pool (world-past.ts). Seeded before `history`.
   */
  pastDays?: number;
  now?: () => Date;
  /** Base for html_url fields; default https://github.com. */
  htmlUrl?: string;
  /** Job logs: `scripted` (default) realistic content as jobs run; `exact` only what `logs.append` writes, then the footer. */
  jobLogs?: 'scripted' | 'exact';
  /** How long a signed log URL stays valid, ms (GitHub: about a minute). Default 60,000. */
  logUrlTtlMs?: number;
}

/** Job logs (issue 17): the blob host the API redirects to, and what reached it. */
export interface SimLogControls {
  /** The blob host's origin: another port, so another origin than `url`. Valid after start(). */
  readonly blobUrl: string;
  /** Exact text appended to a running job's log, as the runner uploads it. */
  append(jobId: number, text: string): void;
  /** Requests for this job's log that reached the API (the blob host's are in `blobRequests`). */
  apiRequests(jobId: number): number;
  /** Every request that reached the blob host, with whether it carried an Authorization header. */
  readonly blobRequests: ReadonlyArray<BlobRequestRecord>;
  /** The next `count` signed URLs the API hands out are already expired. */
  expireNextUrls(count: number): void;
}

export interface TriggerRunInput {
  repo: string;
  workflow?: string;
  branch?: string;
  event?: string;
  /** A job with `environment` waits for that environment's reviewers (a pending deployment). */
  jobs: { name: string; labels?: string[]; outcome?: JobOutcome; steps?: string[]; environment?: string }[];
}

export interface SimulatorWorldView {
  /** Runs, newest first (optionally one repo). Live objects: do not mutate. */
  runs(repo?: string): readonly SimRun[];
  /** Jobs, oldest first (optionally one run). */
  jobs(runId?: number): readonly SimJob[];
  runners(): readonly SimRunner[];
  readonly org: string;
  readonly orgId: number;
}

export interface GithubSimulator {
  /** e.g. http://127.0.0.1:PORT, usable as Octokit baseUrl. Valid after start(). */
  readonly url: string;
  start(): Promise<void>;
  /** Stops autoplay, waits for in-flight webhook sends, releases hung requests, closes the server. */
  stop(): Promise<void>;
  autoplay(opts?: { intervalMs?: number }): void;
  stopAutoplay(): void;
  triggerRun(input: TriggerRunInput): Promise<{ runId: number; jobIds: number[] }>;
  /** One transition (start a job, or advance one job by a step); false if nothing can move. */
  step(): Promise<boolean>;
  runUntilIdle(maxSteps?: number): Promise<void>;
  /** Advances one running job step by step until it completes with its planned outcome. */
  finishJob(jobId: number): Promise<void>;
  readonly logs: SimLogControls;
  /** Takes a runner online/offline (an offline runner takes no jobs; only idle runners can go offline). */
  setRunnerStatus(name: string, status: 'online' | 'offline'): void;
  readonly deliveries: ReadonlyArray<Delivery>;
  /** Resends the same body with the same X-GitHub-Delivery; resolves with the HTTP status, rejects if it could not connect. */
  redeliver(deliveryId: string): Promise<number>;
  /** Every REST request (path includes the query); hung requests are recorded with status 0. */
  readonly requests: ReadonlyArray<RequestRecord>;
  /** Which configured token (read, write or none) each request carried, in arrival order. */
  readonly credentials: ReadonlyArray<CredentialRecord>;
  resetRequests(): void;
  setFault(fault: Fault | null): void;
  readonly world: SimulatorWorldView;
  /** Where to send webhooks from now on (null: stop sending). Demo mode learns the gateway's port after start. */
  setWebhook(target: { url: string; secret: string } | null): void;
}

export function createGithubSimulator(options: GithubSimulatorOptions = {}): GithubSimulator {
  const now = options.now ?? (() => new Date());
  const seed = options.seed ?? Date.now();
  const random = createRandom(seed);
  // Delivery ids come from their own stream so configuring a webhook never changes the world.
  const deliveryIds = createRandom(seed ^ 0x5bd1e995);
  const world = new ActionWorld({
    org: options.org ?? 'octo-org',
    repositories: options.repositories ?? ['api', 'web', 'infra'],
    runners: options.runners ?? DEFAULT_RUNNERS,
    now,
    random,
  });
  if (options.pastDays !== undefined && options.pastDays > 0) seedPast(world, { days: options.pastDays, seed, nowMs: now().getTime() });
  world.seedHistory(options.history ?? 5, (repo) => randomRunSpec(random, repo, { allowMacos: false }));

  const htmlBase = options.htmlUrl ?? 'https://github.com';
  const loop = new LoopbackServer({
    port: options.port,
    handler: (req, res) => handler(req, res),
    crashReply: (err) => ({
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ message: `Simulator error: ${String(err)}`, documentation_url: 'https://docs.github.com/rest', status: '500' }),
    }),
  });
  const base = (): P.UrlBase => ({ api: loop.origin, html: htmlBase });
  const blobHost: LoopbackServer = new LoopbackServer({
    handler: (req, res) => jobLogs.handleBlob(req, res),
    crashReply: (err) => ({ contentType: 'application/xml', body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>InternalError</Code><Message>${String(err)}</Message></Error>` }),
  });
  const jobLogs = new SimJobLogs({
    world, now, seed, mode: options.jobLogs ?? 'scripted', urlTtlMs: options.logUrlTtlMs ?? 60_000, blobOrigin: () => blobHost.origin,
  });

  // The hook id derives from the seed, not the world's RNG, so when (or whether)
  // a webhook is configured never changes the simulated world.
  const hookId = 480_000_000 + (Math.abs(seed) % 10_000_000);
  let sender: WebhookSender | undefined;
  const setWebhook = (target: { url: string; secret: string } | null) => {
    sender = target ? new WebhookSender({ target, hookId, installationTargetId: world.orgId }) : undefined;
  };
  if (options.webhook) setWebhook(options.webhook);

  const credentials: CredentialRecord[] = [];
  /** Builds every body now (a snapshot of this transition), then delivers in order. Re-run attempts send none (issue 15). */
  const emit = async (events: readonly WorldEvent[]): Promise<void> => {
    // Every transition passes here, webhooks or not: logs start and end with their jobs.
    jobLogs.observe(events);
    const target = sender;
    if (!target) return;
    const sends = events.filter((ev) => !isSilent(ev)).map((ev) => {
      const { body } = P.webhookBody(base(), world, ev);
      return target.enqueue(deliveryIds.uuid(), ev.event, ev.action, JSON.stringify(body));
    });
    await Promise.all(sends);
  };
  const isSilent = (ev: WorldEvent): boolean => {
    const runId = ev.event === 'workflow_run' ? ev.runId : world.jobs.get(ev.jobId)?.runId;
    return runId !== undefined && world.runs.get(runId)?.silent === true;
  };

  const handler = createRestHandler({
    world,
    base,
    token: options.token,
    writeToken: options.writeToken,
    legacyDispatch: options.legacyDispatch === true,
    now,
    emit,
    noteCredential: (r) => credentials.push(r),
    jobLogs: (repo, jobId) => jobLogs.answerApi(repo, jobId),
    fault: loop.fault,
    record: loop.record,
    hung: loop.hung,
  });

  const autoplay = new Autoplay({
    world,
    random,
    emit,
    onError: (err) => process.emitWarning(`github simulator autoplay: ${String(err)}`),
  });

  const step = async (): Promise<boolean> => {
    // A requested cancel is carried out first, as GitHub does within seconds.
    const cancelling = world.cancelling()[0];
    if (cancelling) {
      await emit(world.finishCancel(cancelling));
      return true;
    }
    const start = world.startable()[0];
    if (start) {
      await emit(world.startJob(start.job, start.runner));
      return true;
    }
    const job = world.advanceable()[0];
    if (job) {
      await emit(world.advanceJob(job));
      return true;
    }
    return false;
  };

  const finishJob = async (jobId: number): Promise<void> => {
    for (let job = world.jobs.get(jobId); job?.status === 'in_progress'; job = world.jobs.get(jobId)) await emit(world.advanceJob(job));
    if (world.jobs.get(jobId)?.status !== 'completed') throw new Error(`job ${jobId} is not running`);
  };
  const logPath = (jobId: number) => new RegExp(`^/repos/[^/]+/[^/]+/actions/jobs/${jobId}/logs(?:\\?|$)`);

  return {
    get url() {
      return loop.origin;
    },
    start: async () => {
      await loop.start();
      await blobHost.start();
    },
    async stop() {
      autoplay.stop();
      await sender?.drain();
      await loop.stop();
      await blobHost.stop();
    },
    autoplay(opts) {
      autoplay.start(opts?.intervalMs ?? 1000);
    },
    stopAutoplay() {
      autoplay.stop();
    },
    async triggerRun(input) {
      const { run, events } = world.createRun(input);
      await emit(events);
      return { runId: run.id, jobIds: [...run.jobIds] };
    },
    step,
    runUntilIdle: (maxSteps) => runUntilIdle(step, maxSteps),
    finishJob,
    logs: {
      get blobUrl() {
        return blobHost.origin;
      },
      append: (jobId, text) => jobLogs.append(jobId, text),
      apiRequests: (jobId) => loop.requests.filter((r) => logPath(jobId).test(r.path)).length,
      get blobRequests() {
        return jobLogs.blobRequests;
      },
      expireNextUrls: (count) => jobLogs.expireNextUrls(count),
    },
    setWebhook,
    setRunnerStatus(name, status) {
      const r = world.runners.find((x) => x.name === name);
      if (!r) throw new Error(`unknown runner ${name}`);
      world.setRunnerStatus(r, status);
    },
    get deliveries() {
      return sender?.deliveries ?? [];
    },
    redeliver: (deliveryId) => redeliverOrThrow(sender, deliveryId),
    get requests() {
      return loop.requests;
    },
    get credentials() {
      return credentials;
    },
    resetRequests: () => {
      loop.resetRequests();
      credentials.length = 0;
    },
    setFault: (f) => loop.setFault(f),
    world: {
      runs: (repo) => (repo ? world.runsOf(repo) : [...world.runs.values()].sort((a, b) => b.id - a.id)),
      jobs: (runId) => (runId === undefined ? [...world.jobs.values()].sort((a, b) => a.id - b.id) : world.jobsOf(runId)),
      runners: () => world.runners,
      get org() {
        return world.org;
      },
      get orgId() {
        return world.orgId;
      },
    },
  };
}
