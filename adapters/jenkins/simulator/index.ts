/**
 * A simulated Jenkins controller: a real HTTP server speaking Jenkins' JSON
 * API (`…/api/json` with `tree=`/`depth=`, queue, computers, crumb issuer),
 * the Pipeline stage view REST API (`wfapi`), and Notification-plugin pushes.
 * Demo mode uses autoplay(); tests use the deterministic controls
 * (triggerBuild, step, approveInput, faults, request log).
 */
import { createHash } from 'node:crypto';
import { LoopbackServer } from '../../../sim-kit/loopback-server.ts';
import { runUntilIdle } from '../../../sim-kit/sim-autoplay.ts';
import { BuildConsoles, type ConsoleMode } from './console-log.ts';
import { createHttpHandler, type AuthRecord, type Fault, type RequestRecord, type SimUser } from './http.ts';
import { Notifier, type NotifyTarget, type Push } from './notify.ts';
import { createRandom } from '../../../sim-kit/seeded-random.ts';
import { Autoplay } from './scenario.ts';
import { World } from './world.ts';
import { seedPast } from './world-past.ts';
import {
  fullName,
  type AgentSpec, type BuildResult, type InputSpec, type PhaseEvent, type SimParamDef, type SimBuild, type SimComputer, type SimJob, type SimQueueItem,
  type StageOutcome,
} from './world-entities.ts';
import { DEFAULT_AGENTS } from './world-seed.ts';

export type { AuthRecord, Fault, RequestRecord, SimUser } from './http.ts';
export type { NotifyTarget, Push } from './notify.ts';
export type {
  AgentSpec, BuildResult, InputSpec, Phase, SimBuild, SimComputer, SimJob, SimParamDef, SimParamValue, SimQueueItem, SimStage,
  StageOutcome, WfStatus,
} from './world-entities.ts';
export { parseTree, type TreeSpec } from './tree.ts';
export { JENKINS_VERSION } from './exports.ts';
export type { ConsoleMode } from './console-log.ts';

export interface JenkinsSimulatorOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** User name for HTTP Basic (default 'admin'); only checked when apiToken is set. */
  user?: string;
  /** When set, requests need HTTP Basic user:apiToken: none → 403 (anonymous), wrong → 401. */
  apiToken?: string;
  /** More accounts with their own tokens and permissions (e.g. a read-only user and a write user). */
  users?: SimUser[];
  /**
   * POSTs need a `Jenkins-Crumb` from /crumbIssuer/api/json (bound to its session cookie).
   * As in Jenkins ≥ 2.96, API-token requests are exempt; 'always' also demands it of them.
   */
  requireCrumb?: boolean | 'always';
  /** Seed for the deterministic RNG (shas, input ids, history, autoplay). */
  seed?: number;
  /** 'default': a realistic tree of folders, multibranch and jobs; N: N top-level jobs (freestyle and Pipeline alternating). */
  jobs?: 'default' | number;
  /** Nodes; a `built-in` entry is the controller. Default: built-in (1), linux-1 [linux docker] (2), linux-2 [linux] (2), mac-1 offline. */
  agents?: AgentSpec[];
  /** Completed builds pre-created per job (default 3). */
  history?: number;
  /**
   * Days of realistic past (default none): business-hours builds, restarts of
   * flaky builds on the same commit, an agent that loses its channel and hangs
   * into `timeout`, red periods on main and an iOS job starved for its one Mac
   * (world-past.ts). Seeded before `history`, which then builds only the jobs the past left
   * without builds; autoplay's log rotation keeps 500 builds per job.
   */
  pastDays?: number;
  /** Where to send Notification-plugin pushes. */
  notify?: NotifyTarget;
  now?: () => Date;
  /** The stage view's `-Dcom.cloudbees.workflow.rest.external.JobExt.maxRunsPerJob` (default 10): runs per `wfapi/runs` answer. */
  maxRunsPerJob?: number;
  /** Build consoles: 'scripted' (default) realistic and growing with the clock; 'exact' empty until appendLog writes. */
  logs?: ConsoleMode;
}

export interface TriggerStage {
  name: string;
  outcome?: StageOutcome;
  /** Pauses at an `input` step (PAUSED_PENDING_INPUT) until approveInput; an object sets its message, submitter, parameters. */
  input?: boolean | InputSpec;
  steps?: string[];
  /** `when` condition result; false skips the stage (NOT_EXECUTED). Default true. */
  when?: boolean;
}

export interface TriggerBuildInput {
  /** Full name: 'team-a/service', 'monorepo/main', 'monorepo/feature%2Fx'. */
  job: string;
  /** Pipeline stages (default: the job's own stages). Ignored for freestyle jobs. */
  stages?: TriggerStage[];
  /** Forces the build result (otherwise derived from the stages). */
  result?: BuildResult;
  /** Label expression overriding the job's. */
  label?: string;
  /** A step that ignores interrupts: `stop` ('stop'), or `stop` and `term` ('stop+term') do nothing; `kill` works. */
  ignoresInterrupts?: 'stop' | 'stop+term';
}

export interface JenkinsWorldView {
  /** Every job, depth first. Live objects: do not mutate. */
  jobs(): readonly SimJob[];
  job(fullName: string): SimJob | undefined;
  /** Builds newest first (optionally of one job). */
  builds(job?: string): readonly SimBuild[];
  /** Items waiting in the queue, oldest first. */
  queue(): readonly SimQueueItem[];
  computers(): readonly SimComputer[];
  /** The simulator's current time (epoch ms). */
  time(): number;
}

export interface JenkinsSimulator {
  /** Jenkins root URL with the trailing slash, e.g. http://127.0.0.1:PORT/. Valid after start(). */
  readonly url: string;
  start(): Promise<void>;
  /** Stops autoplay, waits for in-flight pushes, releases hung requests, closes the server. */
  stop(): Promise<void>;
  autoplay(opts?: { intervalMs?: number }): void;
  stopAutoplay(): void;
  setNotify(target: NotifyTarget | null): void;
  /** Puts a build in the queue; it starts on a later step() when an executor is free. */
  triggerBuild(input: TriggerBuildInput): Promise<{ queueId: number }>;
  /** Proceeds the pending input of a build (as POST …/input/<id>/proceedEmpty). */
  approveInput(job: string, buildNumber: number): Promise<void>;
  /** One transition of that build only (a stage or step, or its end); false when it is not running or waits for input. */
  advanceBuild(job: string, buildNumber: number): Promise<boolean>;
  /** Appends exact text to a running build's console (as its steps print it). */
  appendLog(job: string, buildNumber: number, text: string): void;
  /** progressiveText and consoleText requests that reached a build's console. */
  logRequests(job: string, buildNumber: number): number;
  /** One transition (start a queued build, or advance one build by a stage/step); false if nothing can move. */
  step(): Promise<boolean>;
  runUntilIdle(maxSteps?: number): Promise<void>;
  setAgent(name: string, s: { offline?: boolean; temporarilyOffline?: boolean }): void;
  /** Sets a build's custom display name (`currentBuild.displayName = ...`); null restores `#N`. */
  setBuildDisplayName(job: string, buildNumber: number, name: string | null): void;
  /** Defines a job's parameters (ParametersDefinitionProperty); [] makes it unparameterized. */
  setJobParameters(job: string, params: SimParamDef[]): void;
  /** Sessions are forgotten between requests (no sticky load balancer): every crumb is refused. */
  setForgetSessions(on: boolean): void;
  /** Who every request authenticated as, and whether it carried a crumb (in arrival order). */
  readonly authLog: ReadonlyArray<AuthRecord>;
  /** Every HTTP request (path includes the query); hung requests are recorded with status 0. */
  readonly requests: ReadonlyArray<RequestRecord>;
  resetRequests(): void;
  setFault(fault: Fault | null): void;
  /** Notification pushes sent, in order. */
  readonly pushes: ReadonlyArray<Push>;
  readonly world: JenkinsWorldView;
}

export function createJenkinsSimulator(options: JenkinsSimulatorOptions = {}): JenkinsSimulator {
  const now = options.now ?? (() => new Date());
  const seed = options.seed ?? Date.now();
  const random = createRandom(seed);
  const world = new World({ now, random, agents: options.agents ?? DEFAULT_AGENTS, jobs: options.jobs ?? 'default' });
  const past = options.pastDays !== undefined && options.pastDays > 0;
  if (past) seedPast(world, { days: options.pastDays!, seed, nowMs: now().getTime() });
  world.seedHistory(options.history ?? 3);

  const loop = new LoopbackServer({
    port: options.port,
    handler: (req, res) => handler(req, res),
    crashReply: (err) => ({ contentType: 'text/html;charset=utf-8', body: `Simulator error: ${String(err)}` }),
  });
  /** Jenkins root URL with trailing slash. */
  const root = (): string => `${loop.origin}/`;
  const notifier = new Notifier(options.notify ?? null);
  const sessionId = createHash('sha1').update(`jenkins-sim-${seed}`).digest('hex').slice(0, 8);

  const emit = (events: readonly PhaseEvent[]): Promise<void> =>
    notifier.send(root(), (ev) => fullName(ev.build.job), events);

  const consoles = new BuildConsoles(options.logs ?? 'scripted', seed);
  const buildOf = (jobName: string, buildNumber: number) => {
    const build = world.findJob(jobName).builds.find((b) => b.number === buildNumber);
    if (!build) throw new Error(`no build ${jobName} #${buildNumber}`);
    return build;
  };
  const authLog: AuthRecord[] = [];
  let forgetSessions = false;
  const handler = createHttpHandler({
    world,
    root,
    user: options.apiToken !== undefined ? (options.user ?? 'admin') : options.user,
    apiToken: options.apiToken,
    users: options.users ?? [],
    recordAuth: (r) => authLog.push(r),
    forgetSessions: () => forgetSessions,
    requireCrumb: options.requireCrumb ?? false,
    sessionId,
    fault: loop.fault,
    record: loop.record,
    hung: loop.hung,
    emit: (events) => void emit(events),
    maxRunsPerJob: options.maxRunsPerJob,
    consoles,
  });

  const autoplay = new Autoplay({
    world,
    random,
    emit,
    keepBuilds: past ? 500 : 30,
    onError: (err) => process.emitWarning(`jenkins simulator autoplay: ${String(err)}`),
  });

  const step = async (): Promise<boolean> => {
    world.refreshQueue();
    const started = world.startNext();
    if (started.length > 0) {
      await emit(started);
      return true;
    }
    const build = world.advanceable()[0];
    if (build) {
      await emit(world.advance(build));
      return true;
    }
    return false;
  };

  return {
    get url() {
      return root();
    },
    start: () => loop.start(),
    async stop() {
      autoplay.stop();
      await notifier.drain();
      await loop.stop();
    },
    autoplay(opts) {
      autoplay.start(opts?.intervalMs ?? 1000);
    },
    stopAutoplay() {
      autoplay.stop();
    },
    setNotify(target) {
      notifier.setTarget(target);
    },
    async triggerBuild(input) {
      const job = world.findJob(input.job);
      const item = world.enqueue(job, {
        ...(input.stages && job.kind === 'pipeline' ? { stages: input.stages.map((s) => ({ ...s })) } : {}),
        ...(input.result ? { result: input.result } : {}),
        ...(input.label ? { label: input.label } : {}),
        ...(input.ignoresInterrupts ? { ignoresInterrupts: input.ignoresInterrupts } : {}),
      });
      return { queueId: item.id };
    },
    async approveInput(jobName, buildNumber) {
      const job = world.findJob(jobName);
      const build = job.builds.find((b) => b.number === buildNumber);
      if (!build) throw new Error(`no build ${jobName} #${buildNumber}`);
      if (!world.approve(build)) throw new Error(`${jobName} #${buildNumber} is not waiting for input`);
    },
    async advanceBuild(jobName, buildNumber) {
      const build = buildOf(jobName, buildNumber);
      if (!world.advanceable().includes(build)) return false;
      await emit(world.advance(build));
      return true;
    },
    appendLog(jobName, buildNumber, text) {
      consoles.append(buildOf(jobName, buildNumber), text, world.time());
    },
    logRequests: (jobName, buildNumber) => consoles.logRequests(buildOf(jobName, buildNumber)),
    step,
    runUntilIdle: (maxSteps) => runUntilIdle(step, maxSteps),
    setAgent(name, s) {
      world.setAgent(name, s);
    },
    setBuildDisplayName(jobName, buildNumber, name) {
      const build = world.findJob(jobName).builds.find((b) => b.number === buildNumber);
      if (!build) throw new Error(`no build ${jobName} #${buildNumber}`);
      build.displayName = name;
      world.version++;
    },
    setJobParameters(jobName, params) {
      world.findJob(jobName).params = params.map((p) => ({ ...p }));
      world.version++;
    },
    setForgetSessions(on) {
      forgetSessions = on;
    },
    get authLog() {
      return authLog;
    },
    get requests() {
      return loop.requests;
    },
    resetRequests: () => {
      loop.resetRequests();
      authLog.length = 0;
    },
    setFault: (f) => loop.setFault(f),
    get pushes() {
      return notifier.pushes;
    },
    world: {
      jobs: () => world.allJobs(),
      job: (name) => {
        const item = world.find(name);
        return item && (item.kind === 'freestyle' || item.kind === 'pipeline') ? item : undefined;
      },
      builds: (name) => {
        const jobs = name === undefined ? world.allJobs() : [world.findJob(name)];
        return jobs.flatMap((j) => j.builds).sort((a, b) => b.timestamp - a.timestamp || b.queueId - a.queueId);
      },
      queue: () => world.waiting(),
      computers: () => world.computers,
      time: () => world.time(),
    },
  };
}
