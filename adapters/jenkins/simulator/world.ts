/**
 * The simulated Jenkins world: folders, multibranch projects, freestyle and
 * Pipeline jobs, builds with Pipeline stages, the build queue and agents with
 * executors, plus the transitions that move them. Pure state; it knows nothing
 * about HTTP. Transitions return the Notification-plugin phases they cause.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';

export type JobKind = 'freestyle' | 'pipeline';
export type BuildResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'NOT_BUILT' | 'ABORTED';
export type StageOutcome = 'SUCCESS' | 'FAILED' | 'UNSTABLE' | 'ABORTED';
/** The stage view's StatusExt values the simulator produces. */
export type WfStatus =
  | 'SUCCESS' | 'FAILED' | 'UNSTABLE' | 'ABORTED' | 'IN_PROGRESS' | 'PAUSED_PENDING_INPUT' | 'NOT_EXECUTED';
export type Phase = 'QUEUED' | 'STARTED' | 'COMPLETED' | 'FINALIZED';

export interface StageSpec {
  name: string;
  outcome?: StageOutcome;
  /** An `input` step: the stage sits PAUSED_PENDING_INPUT until approved. */
  input?: boolean;
  steps?: string[];
  /** `when` evaluated to false: the stage is skipped (NOT_EXECUTED). Default true. */
  when?: boolean;
}

export interface SimCause {
  readonly cls: string;
  readonly shortDescription: string;
  readonly userId?: string;
  readonly userName?: string;
}

export interface BuildSpec {
  stages?: StageSpec[];
  result?: BuildResult;
  label?: string;
  causes?: SimCause[];
}

export interface SimRoot {
  readonly kind: 'root';
  readonly children: Map<string, SimItem>;
}

export interface SimFolder {
  readonly kind: 'folder' | 'multibranch';
  readonly name: string;
  readonly displayName: string;
  readonly parent: SimContainer;
  readonly children: Map<string, SimItem>;
  readonly description: string | null;
}

export interface SimJob {
  readonly kind: JobKind;
  readonly name: string;
  readonly displayName: string;
  readonly parent: SimContainer;
  readonly label: string | null;
  /** Freestyle jobs default to no concurrent builds (a second build is a BlockedItem); Pipelines allow them. */
  readonly concurrent: boolean;
  readonly scmUrl: string;
  /** GIT_BRANCH as the git plugin reports it (`origin/main`, or the branch name in multibranch). */
  readonly gitBranch: string;
  readonly stages: readonly StageSpec[];
  readonly freestyleSteps: readonly string[];
  /** Oldest first. */
  readonly builds: SimBuild[];
  nextBuildNumber: number;
}

export type SimContainer = SimRoot | SimFolder;
export type SimItem = SimFolder | SimJob;

export interface SimComputer {
  readonly name: string;
  readonly builtIn: boolean;
  readonly labels: readonly string[];
  readonly numExecutors: number;
  /** The agent's channel is down (not connected). */
  channelDown: boolean;
  /** Marked offline by a user (implies offline). */
  temporarilyOffline: boolean;
  offlineMessage: string | null;
  readonly executors: (SimBuild | null)[];
}

export interface SimQueueItem {
  readonly id: number;
  readonly job: SimJob;
  readonly spec: BuildSpec;
  readonly causes: readonly SimCause[];
  readonly inQueueSince: number;
  buildableStart: number;
  state: 'blocked' | 'buildable' | 'left';
  why: string | null;
  leftAt: number | null;
  build: SimBuild | null;
  cancelled: boolean;
}

export interface SimStepNode {
  readonly id: string;
  readonly name: string;
  readonly parentId: string;
  status: WfStatus;
  readonly startMs: number;
  durationMs: number | null;
  error: { message: string | null; type: string } | null;
}

export interface SimStage {
  readonly id: string;
  readonly name: string;
  readonly execNode: string;
  status: WfStatus;
  readonly startMs: number;
  durationMs: number | null;
  pauseMs: number;
  pauseStart: number | null;
  readonly plannedSteps: readonly string[];
  readonly outcome: StageOutcome;
  readonly input: boolean;
  inputId: string | null;
  readonly steps: SimStepNode[];
  error: { message: string | null; type: string } | null;
}

export interface SimBuild {
  readonly job: SimJob;
  readonly number: number;
  readonly queueId: number;
  readonly queuedAt: number;
  readonly timestamp: number;
  readonly causes: readonly SimCause[];
  readonly sha: string;
  readonly estimatedDuration: number;
  readonly plan: readonly StageSpec[];
  readonly explicitResult: BuildResult | null;
  readonly computer: SimComputer;
  readonly executorIndex: number;
  building: boolean;
  /** A custom display name (`currentBuild.displayName`); null shows `#<number>`. */
  displayName: string | null;
  result: BuildResult | null;
  duration: number;
  stages: SimStage[];
  nextStage: number;
  /** A stage failed or aborted: the remaining stages are skipped. */
  broken: 'FAILURE' | 'ABORTED' | null;
  unstable: boolean;
  nodeSeq: number;
  freestyleIdx: number;
  lastTouched: number;
}

export interface PhaseEvent {
  readonly phase: Phase;
  readonly build: SimBuild;
  /** Epoch ms the plugin would stamp on this phase. */
  readonly at: number;
}

export interface AgentSpec {
  name: string;
  labels: string[];
  executors: number;
  offline?: boolean;
  temporarilyOffline?: boolean;
}

export const DEFAULT_AGENTS: readonly AgentSpec[] = [
  { name: 'built-in', labels: ['built-in'], executors: 1 },
  { name: 'linux-1', labels: ['linux', 'docker'], executors: 2 },
  { name: 'linux-2', labels: ['linux'], executors: 2 },
  { name: 'mac-1', labels: ['mac', 'macos'], executors: 1, offline: true },
];

const RESULT_COLOR: Record<BuildResult, string> = {
  SUCCESS: 'blue', UNSTABLE: 'yellow', FAILURE: 'red', NOT_BUILT: 'notbuilt', ABORTED: 'aborted',
};

const ACTORS = ['alice', 'bob', 'carol', 'dave'];
/** Jenkins keeps a LeftItem answerable for five minutes after it left the queue. */
export const LEFT_ITEM_TTL_MS = 5 * 60_000;

export function isJob(item: SimItem): item is SimJob {
  return item.kind === 'freestyle' || item.kind === 'pipeline';
}

/** Path segments from the root: ['team-a', 'service']. */
export function pathOf(item: SimItem): string[] {
  const out: string[] = [];
  let cur: SimItem | SimRoot = item;
  while (cur.kind !== 'root') {
    out.unshift(cur.name);
    cur = cur.parent;
  }
  return out;
}

export function fullName(item: SimItem): string {
  return pathOf(item).join('/');
}

export function fullDisplayName(item: SimItem): string {
  const names: string[] = [];
  let cur: SimItem | SimRoot = item;
  while (cur.kind !== 'root') {
    names.unshift(cur.displayName);
    cur = cur.parent;
  }
  return names.join(' » ');
}

/** Jenkins' Util.rawEncode of a job name inside a URL (`feature%2Fx` → `feature%252Fx`). */
export function encodeName(name: string): string {
  return encodeURIComponent(name);
}

/** Relative URL of an item, as `Item.getUrl()`: `job/team-a/job/service/`. */
export function itemUrl(item: SimItem): string {
  return pathOf(item).map((n) => `job/${encodeName(n)}/`).join('');
}

export function buildUrl(build: SimBuild): string {
  return `${itemUrl(build.job)}${build.number}/`;
}

/** The label atoms a node carries, including its own name (as Jenkins does). */
export function labelsOf(c: SimComputer): string[] {
  return [...c.labels, c.builtIn ? 'built-in' : c.name].filter((l, i, a) => a.indexOf(l) === i);
}

export function isOffline(c: SimComputer): boolean {
  return c.channelDown || c.temporarilyOffline;
}

/** `a && b` and single atoms; `||` alternatives. Enough for realistic label expressions. */
export function labelMatches(expr: string | null, c: SimComputer): boolean {
  const atoms = new Set(labelsOf(c));
  if (expr === null || expr.trim() === '') return true;
  return expr.split('||').some((alt) => alt.split('&&').every((a) => atoms.has(a.trim())));
}

export function jobColor(job: SimJob): string {
  const last = job.builds[job.builds.length - 1];
  if (!last) return 'notbuilt';
  if (!last.building) return RESULT_COLOR[last.result ?? 'NOT_BUILT'];
  const prev = [...job.builds].reverse().find((b) => !b.building);
  return `${prev ? RESULT_COLOR[prev.result ?? 'NOT_BUILT'] : 'notbuilt'}_anime`;
}

export interface WorldOptions {
  now: () => Date;
  random: Random;
  agents: readonly AgentSpec[];
  jobs: 'default' | number;
}

export interface TriggerSpec extends BuildSpec {
  job: string;
}

export class World {
  readonly root: SimRoot = { kind: 'root', children: new Map() };
  readonly computers: SimComputer[] = [];
  /** Queue items by id, including LeftItems until they expire. */
  readonly queue = new Map<number, SimQueueItem>();
  /** Bumped on every change. */
  version = 0;
  private nextQueueId = 1;
  private touch = 0;
  /** While seeding history, time is synthetic. */
  private fakeNow: number | null = null;
  private readonly random: Random;
  private readonly now: () => Date;

  constructor(options: WorldOptions) {
    this.random = options.random;
    this.now = options.now;
    const specs = options.agents.some((a) => a.name === 'built-in')
      ? options.agents
      : [{ name: 'built-in', labels: ['built-in'], executors: 0 }, ...options.agents];
    for (const a of specs) {
      this.computers.push({
        name: a.name,
        builtIn: a.name === 'built-in',
        labels: a.labels,
        numExecutors: a.executors,
        channelDown: a.name !== 'built-in' && (a.offline ?? false),
        temporarilyOffline: a.temporarilyOffline ?? false,
        offlineMessage: a.temporarilyOffline ? 'Maintenance' : null,
        executors: Array.from({ length: a.executors }, () => null),
      });
    }
    if (options.jobs === 'default') this.defaultTree();
    else this.scaleTree(options.jobs);
  }

  time(): number {
    return this.fakeNow ?? this.now().getTime();
  }

  // ---- the tree ---------------------------------------------------------------------------

  private folder(parent: SimContainer, name: string, kind: 'folder' | 'multibranch' = 'folder', description: string | null = null): SimFolder {
    const f: SimFolder = { kind, name, displayName: name, parent, children: new Map(), description };
    parent.children.set(name, f);
    return f;
  }

  private job(parent: SimContainer, name: string, kind: JobKind, opts: {
    label?: string | null; stages?: StageSpec[]; steps?: string[]; displayName?: string; repo?: string; branch?: string;
  } = {}): SimJob {
    const repo = opts.repo ?? name;
    const j: SimJob = {
      kind,
      name,
      displayName: opts.displayName ?? name,
      parent,
      label: opts.label ?? null,
      concurrent: kind === 'pipeline',
      scmUrl: `https://git.example.com/acme/${repo}.git`,
      gitBranch: opts.branch ?? 'origin/main',
      stages: opts.stages ?? [],
      freestyleSteps: opts.steps ?? ['Execute shell'],
      builds: [],
      nextBuildNumber: 1,
    };
    parent.children.set(name, j);
    return j;
  }

  private defaultTree(): void {
    const std = (...names: string[]): StageSpec[] => names.map((name) => ({ name, steps: stepsFor(name) }));
    const teamA = this.folder(this.root, 'team-a', 'folder', 'Team A services');
    this.job(teamA, 'lint', 'freestyle', { label: 'linux', steps: ['Git', 'Execute shell'], repo: 'service' });
    this.job(teamA, 'service', 'pipeline', { label: 'linux', stages: std('Checkout', 'Build', 'Test', 'Package') });
    const platform = this.folder(this.root, 'platform');
    const infra = this.folder(platform, 'infra');
    this.job(infra, 'terraform', 'pipeline', {
      label: 'linux',
      stages: [{ name: 'Plan', steps: ['Shell Script'] }, { name: 'Approve', input: true }, { name: 'Apply', steps: ['Shell Script'] }],
    });
    this.job(infra, 'nightly-backup', 'freestyle', { label: 'linux && docker' });
    const mono = this.folder(this.root, 'monorepo', 'multibranch', 'Monorepo branches');
    this.job(mono, 'main', 'pipeline', { label: 'linux', stages: std('Checkout', 'Build', 'Test', 'Publish'), repo: 'monorepo', branch: 'main' });
    this.job(mono, 'feature%2Fx', 'pipeline', {
      label: 'linux',
      displayName: 'feature/x',
      stages: [...std('Checkout', 'Build', 'Test'), { name: 'Publish', when: false }],
      repo: 'monorepo',
      branch: 'feature/x',
    });
    this.job(this.root, 'docs', 'freestyle', { steps: ['Git', 'Execute shell'] });
    this.job(this.root, 'ios-app', 'pipeline', { label: 'mac', stages: std('Checkout', 'Build', 'Test') });
  }

  private scaleTree(n: number): void {
    const width = String(n).length;
    for (let i = 1; i <= n; i++) {
      const id = String(i).padStart(Math.max(3, width), '0');
      if (i % 2 === 0) this.job(this.root, `pipeline-${id}`, 'pipeline', { stages: [{ name: 'Build', steps: ['Shell Script'] }, { name: 'Test', steps: ['Shell Script'] }] });
      else this.job(this.root, `freestyle-${id}`, 'freestyle');
    }
  }

  /** Every job, depth first, in Jenkins' (case-insensitive name) order. */
  allJobs(): SimJob[] {
    const out: SimJob[] = [];
    const walk = (c: SimContainer): void => {
      for (const item of sortedChildren(c)) {
        if (isJob(item)) out.push(item);
        else walk(item);
      }
    };
    walk(this.root);
    return out;
  }

  /** Resolves a full name such as `team-a/service` or `monorepo/feature%2Fx`. */
  find(full: string): SimItem | undefined {
    const parts = full.split('/').filter(Boolean);
    let cur: SimContainer = this.root;
    let item: SimItem | undefined;
    for (const [i, part] of parts.entries()) {
      item = cur.children.get(part);
      if (!item) return undefined;
      if (!isJob(item)) cur = item;
      else if (i !== parts.length - 1) return undefined;
    }
    return item;
  }

  findJob(full: string): SimJob {
    const item = this.find(full);
    if (!item || !isJob(item)) throw new Error(`unknown job ${full}`);
    return item;
  }

  computer(name: string): SimComputer | undefined {
    return this.computers.find((c) => c.name === name);
  }

  // ---- history ----------------------------------------------------------------------------

  /** Completed builds per job, back-dated, run through the ordinary transitions on a synthetic clock. */
  seedHistory(perJob: number): void {
    if (perJob <= 0) return;
    const jobs = this.allJobs();
    const end = this.now().getTime();
    let t = end - perJob * 3_600_000 - 600_000;
    for (let round = 0; round < perJob; round++) {
      for (const job of jobs) {
        this.fakeNow = t + this.random.int(0, 600_000);
        const spec = historySpec(this.random, job);
        const item = this.enqueue(job, spec);
        const computer = this.computers.find((c) => labelMatches(job.label, c) && c.numExecutors > 0)
          ?? this.computers.find((c) => c.numExecutors > 0);
        if (!computer) throw new Error('no computer with executors for history');
        this.fakeNow += this.random.int(1_000, 20_000);
        const slot = computer.executors.indexOf(null);
        const build = this.startOn(item, computer, slot >= 0 ? slot : 0, true);
        for (let guard = 0; build.building && guard < 500; guard++) {
          this.fakeNow += this.random.int(2_000, 40_000);
          const stage = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT');
          if (stage) this.approve(build);
          else this.advance(build);
        }
      }
      t += 3_600_000;
    }
    this.fakeNow = null;
    // LeftItems of seeded builds are long gone.
    for (const [id, q] of this.queue) if (q.state === 'left') this.queue.delete(id);
  }

  // ---- the queue --------------------------------------------------------------------------

  enqueue(job: SimJob, spec: BuildSpec): SimQueueItem {
    const now = this.time();
    const causes = spec.causes ?? [userCause(this.random.pick(ACTORS))];
    const item: SimQueueItem = {
      id: this.nextQueueId++,
      job,
      spec,
      causes,
      inQueueSince: now,
      buildableStart: now,
      state: 'buildable',
      why: null,
      leftAt: null,
      build: null,
      cancelled: false,
    };
    this.queue.set(item.id, item);
    this.refreshQueue();
    this.version++;
    return item;
  }

  /** Items still waiting, in queue order (oldest first). */
  waiting(): SimQueueItem[] {
    return [...this.queue.values()].filter((q) => q.state !== 'left').sort((a, b) => a.id - b.id);
  }

  /** Recomputes blocked/buildable and `why` for every waiting item, and drops expired LeftItems. */
  refreshQueue(): void {
    const now = this.time();
    for (const [id, q] of this.queue) {
      if (q.state === 'left' && q.leftAt !== null && now - q.leftAt > LEFT_ITEM_TTL_MS) this.queue.delete(id);
    }
    for (const q of this.waiting()) {
      const label = labelOf(q);
      const running = q.job.builds.find((b) => b.building);
      if (!q.job.concurrent && running) {
        if (q.state !== 'blocked') q.state = 'blocked';
        q.why = `Build #${running.number} is already in progress${eta(running, now)}`;
        continue;
      }
      if (q.state === 'blocked') {
        q.state = 'buildable';
        q.buildableStart = now;
      }
      const candidates = this.computers.filter((c) => c.numExecutors > 0 && labelMatches(label, c));
      if (label !== null && candidates.length === 0) q.why = `There are no nodes with the label ‘${label}’`;
      else if (label !== null && candidates.every(isOffline)) {
        q.why = candidates.length === 1 ? `‘${candidates[0]?.name}’ is offline` : `All nodes of label ‘${label}’ are offline`;
      } else q.why = label === null ? 'Waiting for next available executor' : `Waiting for next available executor on ‘${label}’`;
    }
  }

  /** Whether a buildable item is stuck (Queue.BuildableItem.isStuck). */
  isStuck(q: SimQueueItem): boolean {
    if (q.state !== 'buildable') return false;
    const label = labelOf(q);
    const candidates = this.computers.filter((c) => c.numExecutors > 0 && labelMatches(label, c));
    if (label !== null && candidates.every(isOffline)) return true;
    const elapsed = this.time() - q.buildableStart;
    const est = estimate(q.job);
    return est >= 0 ? elapsed > Math.max(est, 60_000) * 10 : elapsed > 24 * 3_600_000;
  }

  /** The first buildable item with a free executor on a matching online node. */
  startable(): { item: SimQueueItem; computer: SimComputer; slot: number } | undefined {
    for (const item of this.waiting()) {
      if (item.state !== 'buildable') continue;
      const label = labelOf(item);
      for (const c of this.computers) {
        if (isOffline(c) || !labelMatches(label, c)) continue;
        const slot = c.executors.indexOf(null);
        if (slot >= 0) return { item, computer: c, slot };
      }
    }
    return undefined;
  }

  cancel(id: number): boolean {
    const q = this.queue.get(id);
    if (!q || q.state === 'left') return false;
    q.state = 'left';
    q.cancelled = true;
    q.leftAt = this.time();
    q.why = null;
    this.version++;
    return true;
  }

  // ---- builds -----------------------------------------------------------------------------

  /** Takes an item off the queue onto an executor. Returns the build; phases QUEUED and STARTED follow. */
  startOn(item: SimQueueItem, computer: SimComputer, slot: number, history = false): SimBuild {
    const now = this.time();
    const job = item.job;
    const plan = item.spec.stages ?? (job.kind === 'pipeline' ? [...job.stages] : []);
    const build: SimBuild = {
      job,
      number: job.nextBuildNumber++,
      queueId: item.id,
      queuedAt: item.inQueueSince,
      timestamp: now,
      causes: item.causes,
      sha: this.random.hex(40),
      estimatedDuration: estimate(job),
      plan,
      explicitResult: item.spec.result ?? null,
      computer,
      executorIndex: slot,
      building: true,
      displayName: null,
      result: null,
      duration: 0,
      stages: [],
      nextStage: 0,
      broken: null,
      unstable: false,
      nodeSeq: 2,
      freestyleIdx: 0,
      lastTouched: this.touch++,
    };
    job.builds.push(build);
    if (!history) computer.executors[slot] = build;
    item.state = 'left';
    item.leftAt = now;
    item.why = null;
    item.build = build;
    this.version++;
    this.refreshQueue();
    return build;
  }

  startNext(): PhaseEvent[] {
    const s = this.startable();
    if (!s) return [];
    const build = this.startOn(s.item, s.computer, s.slot);
    return [
      { phase: 'QUEUED', build, at: build.queuedAt },
      { phase: 'STARTED', build, at: build.timestamp },
    ];
  }

  running(): SimBuild[] {
    return this.allJobs().flatMap((j) => j.builds.filter((b) => b.building));
  }

  /** Running builds that can move (not waiting for input), least recently advanced first. */
  advanceable(): SimBuild[] {
    return this.running()
      .filter((b) => !b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT'))
      .sort((a, b) => a.lastTouched - b.lastTouched);
  }

  /** One transition of a running build. */
  advance(build: SimBuild): PhaseEvent[] {
    if (!build.building) return [];
    build.lastTouched = this.touch++;
    this.version++;
    const now = this.time();
    if (build.job.kind === 'freestyle') {
      if (build.freestyleIdx < build.job.freestyleSteps.length) {
        build.freestyleIdx++;
        return [];
      }
      return this.finish(build, build.explicitResult ?? 'SUCCESS');
    }
    const current = build.stages[build.stages.length - 1];
    if (current && (current.status === 'IN_PROGRESS')) {
      const done = current.steps.filter((s) => s.status !== 'IN_PROGRESS').length;
      const open = current.steps.find((s) => s.status === 'IN_PROGRESS');
      if (open && done + 1 < current.plannedSteps.length) {
        open.status = 'SUCCESS';
        open.durationMs = now - open.startMs;
        current.steps.push(this.stepNode(build, current, current.plannedSteps[done + 1] ?? 'Shell Script', now));
        return [];
      }
      this.completeStage(build, current, now);
      return [];
    }
    const spec = build.plan[build.nextStage];
    if (!spec) return this.finish(build, this.pipelineResult(build));
    build.nextStage++;
    const id = String(++build.nodeSeq);
    build.nodeSeq++; // the stage's block body node
    const skipped = build.broken !== null || spec.when === false;
    const stage: SimStage = {
      id,
      name: spec.name,
      execNode: build.computer.builtIn ? '' : build.computer.name,
      status: skipped ? 'NOT_EXECUTED' : spec.input ? 'PAUSED_PENDING_INPUT' : 'IN_PROGRESS',
      startMs: now,
      durationMs: skipped ? 0 : null,
      pauseMs: 0,
      pauseStart: spec.input && !skipped ? now : null,
      plannedSteps: spec.input ? ['Wait for interactive input'] : spec.steps?.length ? spec.steps : ['Shell Script'],
      outcome: spec.outcome ?? 'SUCCESS',
      input: spec.input ?? false,
      inputId: spec.input && !skipped ? inputIdFor(this.random) : null,
      steps: [],
      error: null,
    };
    build.stages.push(stage);
    if (!skipped) {
      stage.steps.push(this.stepNode(build, stage, stage.plannedSteps[0] ?? 'Shell Script', now));
      if (spec.input) {
        const waiting = stage.steps[0];
        if (waiting) waiting.status = 'PAUSED_PENDING_INPUT';
      }
    }
    return [];
  }

  private stepNode(build: SimBuild, stage: SimStage, name: string, now: number): SimStepNode {
    const prev = stage.steps[stage.steps.length - 1];
    return { id: String(++build.nodeSeq), name, parentId: prev ? prev.id : stage.id, status: 'IN_PROGRESS', startMs: now, durationMs: null, error: null };
  }

  private completeStage(build: SimBuild, stage: SimStage, now: number): void {
    const last = stage.steps[stage.steps.length - 1];
    const status: WfStatus = stage.outcome;
    if (last) {
      last.durationMs = now - last.startMs;
      last.status = status === 'UNSTABLE' ? 'SUCCESS' : status;
      if (status === 'FAILED') last.error = { message: 'script returned exit code 1', type: 'hudson.AbortException' };
      if (status === 'ABORTED') last.error = { message: null, type: 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException' };
    }
    stage.status = status;
    stage.durationMs = now - stage.startMs;
    if (status === 'FAILED') {
      stage.error = { message: 'script returned exit code 1', type: 'hudson.AbortException' };
      build.broken ??= 'FAILURE';
    }
    if (status === 'ABORTED') {
      stage.error = { message: null, type: 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException' };
      build.broken ??= 'ABORTED';
    }
    if (status === 'UNSTABLE') build.unstable = true;
  }

  private pipelineResult(build: SimBuild): BuildResult {
    if (build.explicitResult) return build.explicitResult;
    if (build.broken) return build.broken;
    return build.unstable ? 'UNSTABLE' : 'SUCCESS';
  }

  private finish(build: SimBuild, result: BuildResult): PhaseEvent[] {
    const now = this.time();
    build.building = false;
    build.result = result;
    build.duration = Math.max(now - build.timestamp, 0);
    if (build.computer.executors[build.executorIndex] === build) build.computer.executors[build.executorIndex] = null;
    this.version++;
    this.refreshQueue();
    return [
      { phase: 'COMPLETED', build, at: build.timestamp + build.duration },
      { phase: 'FINALIZED', build, at: now },
    ];
  }

  /** Proceeds the pending input of a build; false if it has none. */
  approve(build: SimBuild): boolean {
    const stage = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT');
    if (!stage) return false;
    const now = this.time();
    stage.status = 'IN_PROGRESS';
    if (stage.pauseStart !== null) stage.pauseMs += now - stage.pauseStart;
    stage.pauseStart = null;
    const waiting = stage.steps[stage.steps.length - 1];
    if (waiting) waiting.status = 'IN_PROGRESS';
    stage.inputId = null;
    build.lastTouched = this.touch++;
    this.version++;
    return true;
  }

  /** Aborts a pending input (as the `abort` link does): the stage and build end ABORTED. */
  abortInput(build: SimBuild): PhaseEvent[] {
    const stage = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT');
    if (!stage) return [];
    const now = this.time();
    if (stage.pauseStart !== null) stage.pauseMs += now - stage.pauseStart;
    stage.pauseStart = null;
    stage.inputId = null;
    stage.status = 'IN_PROGRESS';
    (stage as { outcome: StageOutcome }).outcome = 'ABORTED';
    this.completeStage(build, stage, now);
    this.version++;
    return [];
  }

  /** Aborts a running build at once (POST .../stop). */
  stop(build: SimBuild): PhaseEvent[] {
    if (!build.building) return [];
    const now = this.time();
    for (const s of build.stages) {
      if (s.status === 'IN_PROGRESS' || s.status === 'PAUSED_PENDING_INPUT') {
        if (s.pauseStart !== null) s.pauseMs += now - s.pauseStart;
        s.pauseStart = null;
        s.inputId = null;
        s.status = 'IN_PROGRESS';
        (s as { outcome: StageOutcome }).outcome = 'ABORTED';
        this.completeStage(build, s, now);
      }
    }
    return this.finish(build, 'ABORTED');
  }

  setAgent(name: string, s: { offline?: boolean; temporarilyOffline?: boolean }): void {
    const c = this.computer(name);
    if (!c) throw new Error(`unknown agent ${name}`);
    if (c.builtIn && s.offline) throw new Error('the built-in node cannot go offline');
    if (s.offline !== undefined) c.channelDown = s.offline;
    if (s.temporarilyOffline !== undefined) {
      c.temporarilyOffline = s.temporarilyOffline;
      c.offlineMessage = s.temporarilyOffline ? 'Maintenance' : null;
    }
    this.version++;
    this.refreshQueue();
  }

  /** Keeps at most `keep` builds per job (log rotation), never dropping running ones. */
  prune(keep: number): void {
    for (const job of this.allJobs()) {
      while (job.builds.length > keep && job.builds[0] && !job.builds[0].building) job.builds.shift();
    }
  }
}

export function sortedChildren(c: SimContainer): SimItem[] {
  return [...c.children.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
}

export function userCause(user: string): SimCause {
  return { cls: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user };
}

export const SCM_CAUSE: SimCause = { cls: 'hudson.triggers.SCMTrigger$SCMTriggerCause', shortDescription: 'Started by an SCM change' };
export const TIMER_CAUSE: SimCause = { cls: 'hudson.triggers.TimerTrigger$TimerTriggerCause', shortDescription: 'Started by timer' };
export const BRANCH_CAUSE: SimCause = { cls: 'jenkins.branch.BranchIndexingCause', shortDescription: 'Branch indexing' };

function labelOf(q: SimQueueItem): string | null {
  return q.spec.label ?? q.job.label;
}

/** Average duration of the last successful builds, -1 if none (Job.getEstimatedDuration). */
function estimate(job: SimJob): number {
  const done = job.builds.filter((b) => !b.building && (b.result === 'SUCCESS' || b.result === 'UNSTABLE')).slice(-3);
  if (done.length === 0) return -1;
  return Math.round(done.reduce((s, b) => s + b.duration, 0) / done.length);
}

function eta(build: SimBuild, now: number): string {
  if (build.estimatedDuration < 0) return '';
  const left = Math.max(0, build.timestamp + build.estimatedDuration - now);
  return ` (ETA: ${left < 60_000 ? `${Math.round(left / 1000)} sec` : `${Math.round(left / 60_000)} min`})`;
}

function stepsFor(stage: string): string[] {
  switch (stage) {
    case 'Checkout': return ['Check out from version control'];
    case 'Build': return ['Shell Script', 'Shell Script'];
    case 'Test': return ['Shell Script', 'Archive JUnit-formatted test results'];
    case 'Package': return ['Shell Script', 'Archive the artifacts'];
    case 'Publish': return ['Shell Script'];
    default: return ['Shell Script'];
  }
}

function inputIdFor(random: Random): string {
  // InputStep ids are the MD5 of the message, capitalised: e.g. "Ef95dd500ae6ed3b27b89fb852296d12".
  const h = random.hex(32);
  return h.charAt(0).toUpperCase() + h.slice(1);
}

/** A plausible historic build: mostly green, the odd failure. */
export function historySpec(random: Random, job: SimJob): BuildSpec {
  const x = random.next();
  const causes = [random.chance(0.5) ? SCM_CAUSE : userCause(random.pick(ACTORS))];
  if (job.kind === 'freestyle') {
    return { result: x < 0.8 ? 'SUCCESS' : x < 0.93 ? 'FAILURE' : 'UNSTABLE', causes };
  }
  const stages = job.stages.map((s) => ({ ...s }));
  if (x >= 0.8 && stages.length > 1) {
    const victim = stages[random.int(1, stages.length - 1)];
    if (victim && !victim.input && victim.when !== false) victim.outcome = x < 0.93 ? 'FAILED' : 'UNSTABLE';
  }
  return { stages, causes };
}
