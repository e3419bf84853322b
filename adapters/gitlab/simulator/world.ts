/**
 * The simulated GitLab CI world: one group, its projects, pipelines with
 * stages, jobs (builds and bridges), child pipelines and runners, plus the
 * transitions that move them. Pure state; it knows nothing about HTTP.
 *
 * Status semantics follow GitLab (gitlabhq app/models/concerns/ci/has_status.rb,
 * lib/gitlab/ci/status/composite.rb, app/services/ci/pipeline_processing/):
 * jobs start `created`; a stage is enqueued once every earlier stage is done;
 * `when: manual` jobs wait in `manual`, `when: delayed` ones in `scheduled`;
 * resource-group jobs pass through `waiting_for_resource`; a pipeline's status
 * is the composite of its latest jobs, where allowed-to-fail failures count
 * as "success with warnings" and non-blocking manual jobs are ignored.
 *
 * Every mutating method returns the webhook events the transition causes, in
 * order (job hooks before the pipeline hook they lead to).
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';

export const STATUSES = [
  'created', 'waiting_for_resource', 'preparing', 'waiting_for_callback', 'pending', 'running',
  'success', 'failed', 'canceling', 'canceled', 'skipped', 'manual', 'scheduled',
] as const;
export type Status = (typeof STATUSES)[number];
export const COMPLETED: ReadonlySet<Status> = new Set<Status>(['success', 'failed', 'canceled', 'skipped']);

export type JobOutcome = 'success' | 'failed' | 'canceled' | 'skipped';
export type JobWhen = 'on_success' | 'manual' | 'delayed';
export type RunnerType = 'instance_type' | 'group_type' | 'project_type';

export interface SimUser {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly email: string;
}

export interface SimProject {
  readonly id: number;
  readonly path: string;
  readonly name: string;
  readonly description: string;
  readonly defaultBranch: string;
  readonly createdAt: string;
  lastActivityAt: string;
}

export interface SimRunner {
  readonly id: number;
  readonly description: string;
  readonly tags: readonly string[];
  readonly type: RunnerType;
  /** Project ids a project_type runner is assigned to. */
  readonly projectIds: readonly number[];
  readonly runUntagged: boolean;
  readonly createdAt: string;
  readonly version: string;
  readonly managerId: number;
  readonly systemId: string;
  paused: boolean;
  online: boolean;
  neverContacted: boolean;
  stale: boolean;
  /** Last contact for runners that are not online (online ones contact continuously). */
  contactedAt: string | null;
  /** How many jobs it runs at once (config.toml `concurrent`/`limit`; autoscaling runners run many). */
  readonly concurrent: number;
  /** The jobs it is running now (at most `concurrent`). */
  readonly jobIds: Set<number>;
}

export interface SimPipeline {
  readonly id: number;
  readonly iid: number;
  readonly projectId: number;
  readonly ref: string;
  readonly tag: boolean;
  readonly sha: string;
  readonly beforeSha: string;
  readonly source: string;
  readonly name: string | null;
  readonly message: string;
  readonly user: SimUser;
  readonly createdAt: string;
  readonly stages: string[];
  readonly jobIds: number[];
  /** For child pipelines: the bridge that created it. */
  readonly parent: { readonly pipelineId: number; readonly jobId: number; readonly projectId: number } | null;
  status: Status;
  /** True when it succeeded while an allowed-to-fail job failed. */
  warnings: boolean;
  processed: boolean;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SimJob {
  readonly id: number;
  readonly kind: 'build' | 'bridge';
  readonly pipelineId: number;
  readonly projectId: number;
  readonly name: string;
  readonly stage: string;
  readonly stageIndex: number;
  readonly tags: readonly string[];
  readonly outcome: JobOutcome;
  readonly when: JobWhen;
  readonly allowFailure: boolean;
  readonly failureReason: string;
  readonly resourceGroup: string | null;
  readonly preparing: boolean;
  readonly callback: boolean;
  readonly environment: string | null;
  readonly user: SimUser;
  readonly createdAt: string;
  readonly retriesCount: number;
  /** Jobs of the child pipeline a bridge creates. */
  readonly downstream: readonly JobSpec[] | null;
  status: Status;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  runnerId: number | null;
  retried: boolean;
  downstreamPipelineId: number | null;
  lastTouched: number;
}

export interface RunnerSpec {
  description: string;
  tags: string[];
  type: RunnerType;
  paused?: boolean;
  online?: boolean;
  neverContacted?: boolean;
  /** Extension: no contact for over 7 days (status `stale`). */
  stale?: boolean;
  /** Extension: whether it picks untagged jobs (default true). */
  runUntagged?: boolean;
  /** Extension: project paths a project_type runner is assigned to (default: the first project). */
  projects?: string[];
  /** Jobs it runs at once (default 1). */
  concurrent?: number;
}

export interface JobSpec {
  name: string;
  stage: string;
  tags?: string[];
  outcome?: JobOutcome;
  when?: JobWhen;
  allowFailure?: boolean;
  failureReason?: string;
  /** true: the project's `production` resource group; a string names the group. */
  resourceGroup?: boolean | string;
  /** Extension: the job passes through `preparing` (prerequisites such as an environment) before `pending`. */
  preparing?: boolean;
  /** Extension: after the script the job waits for an external callback (`waiting_for_callback`). */
  callback?: boolean;
  environment?: string;
}

export interface PipelineSpec {
  project: string;
  ref?: string;
  source?: string;
  name?: string;
  jobs: JobSpec[];
  /**
   * Adds a trigger job (bridge) in a last `downstream` stage that creates a
   * child pipeline (`source: parent_pipeline`, `strategy: depend`). `true`
   * uses a default build+test child; an object sets its jobs.
   */
  downstream?: boolean | { name?: string; jobs: JobSpec[] };
}

export type WorldEvent =
  | { readonly kind: 'job'; readonly jobId: number }
  | { readonly kind: 'pipeline'; readonly pipelineId: number };

/** REST timestamps: ISO-8601 UTC with milliseconds, as GitLab renders them. */
export function isoMs(date: Date): string {
  return date.toISOString();
}

const MESSAGES = [
  'Fix flaky integration test', 'Add retry to upstream client', 'Bump dependencies', 'Refactor config loader',
  'Improve error messages', 'Add metrics endpoint', 'Update README', 'Tune connection pool',
];
const USERS: readonly SimUser[] = [
  { id: 1, username: 'root', name: 'Administrator', email: 'admin@example.com' },
  { id: 2381, username: 'jdoe', name: 'Jane Doe', email: 'jdoe@example.com' },
  { id: 4102, username: 'asmith', name: 'Alex Smith', email: 'asmith@example.com' },
];
export const DEFAULT_CHILD_JOBS: readonly JobSpec[] = [
  { name: 'child-build', stage: 'build', tags: ['docker'] },
  { name: 'child-test', stage: 'test', tags: ['docker'] },
];

export const DEFAULT_RUNNERS: readonly RunnerSpec[] = [
  // An autoscaling shared runner: several jobs at once.
  { description: 'shared-runner-1', tags: ['docker', 'linux'], type: 'instance_type', concurrent: 4 },
  { description: 'shared-runner-2', tags: ['docker', 'linux'], type: 'instance_type' },
  { description: 'platform-arm64', tags: ['docker', 'linux', 'arm64'], type: 'group_type' },
  { description: 'backend-gpu', tags: ['docker', 'gpu'], type: 'project_type', online: false },
  { description: 'legacy-macos', tags: ['macos'], type: 'instance_type', neverContacted: true },
];

/**
 * GitLab's composite status (lib/gitlab/ci/status/composite.rb): allowed-to-fail
 * failed/canceled jobs count as success-with-warnings, allowed-to-fail manual
 * jobs are ignored.
 */
export function compositeStatus(jobs: readonly Pick<SimJob, 'status' | 'allowFailure'>[]): { status: Status | null; warnings: boolean } {
  const set = new Set<string>();
  for (const j of jobs) {
    if (j.allowFailure && (j.status === 'failed' || j.status === 'canceled')) set.add('success_with_warnings');
    else if (j.allowFailure && j.status === 'manual') set.add('ignored');
    else set.add(j.status);
  }
  const warnings = set.has('success_with_warnings');
  const only = (...xs: string[]): boolean => [...set].every((s) => xs.includes(s));
  const any = (...xs: string[]): boolean => xs.some((x) => set.has(x));
  const r = (status: Status | null) => ({ status, warnings: status === 'success' && warnings });
  if (set.size === 0) return r(null);
  if (only('skipped', 'ignored')) return r('skipped');
  if (only('success', 'skipped', 'success_with_warnings', 'ignored')) return r('success');
  if (only('created', 'success_with_warnings', 'ignored')) return r('created');
  if (only('preparing', 'success_with_warnings', 'ignored')) return r('preparing');
  if (only('canceled', 'success', 'skipped', 'success_with_warnings', 'ignored')) return r('canceled');
  if (only('pending', 'created', 'skipped', 'success_with_warnings', 'ignored')) return r('pending');
  if (any('running', 'pending')) return r('running');
  if (any('waiting_for_resource')) return r('waiting_for_resource');
  if (any('waiting_for_callback')) return r('waiting_for_callback');
  if (any('manual')) return r('manual');
  if (any('scheduled')) return r('scheduled');
  if (any('preparing')) return r('preparing');
  if (any('created')) return r('running');
  if (any('canceling')) return r('canceling');
  return r('failed');
}

export interface WorldOptions {
  group: string;
  projects: readonly string[];
  runners: readonly RunnerSpec[];
  now: () => Date;
  random: Random;
}

export type Transition =
  | { readonly type: 'process'; readonly pipeline: SimPipeline }
  | { readonly type: 'advance'; readonly job: SimJob }
  | { readonly type: 'start'; readonly job: SimJob; readonly runner: SimRunner }
  | { readonly type: 'finish'; readonly job: SimJob };

export class World {
  readonly group: string;
  readonly groupId: number;
  readonly projects: SimProject[] = [];
  readonly pipelines = new Map<number, SimPipeline>();
  readonly jobs = new Map<number, SimJob>();
  readonly runners: SimRunner[] = [];
  /** Bumped on every change. */
  version = 0;

  private now: () => Date;
  private readonly random: Random;
  private nextPipelineId = 2_000_000_000;
  private nextJobId = 11_000_000_000;
  private readonly iids = new Map<number, number>();
  private touch = 0;

  constructor(options: WorldOptions) {
    this.now = options.now;
    this.random = options.random;
    this.group = options.group;
    this.groupId = 60_000_000 + this.random.int(0, 9_999_999);
    const nowMs = this.now().getTime();
    let projectId = 40_000_000 + this.random.int(0, 9_999_999);
    options.projects.forEach((path, i) => {
      this.projects.push({
        id: (projectId += this.random.int(100, 90_000)),
        path,
        name: path,
        description: `The ${path} service`,
        defaultBranch: 'main',
        createdAt: isoMs(new Date(nowMs - (400 - i * 30) * 86_400_000)),
        lastActivityAt: isoMs(new Date(nowMs - 3_600_000)),
      });
    });
    let runnerId = 12_000_000 + this.random.int(0, 999_999);
    let managerId = 74_000_000 + this.random.int(0, 999_999);
    const firstProject = this.projects[0];
    for (const spec of options.runners) {
      const projectIds =
        spec.type === 'project_type'
          ? (spec.projects ?? (firstProject ? [firstProject.path] : [])).map((p) => {
              const proj = this.projectByPath(p);
              if (!proj) throw new Error(`runner ${spec.description}: unknown project ${p}`);
              return proj.id;
            })
          : [];
      const online = !spec.neverContacted && !spec.stale && (spec.online ?? true);
      this.runners.push({
        id: (runnerId += this.random.int(1, 5000)),
        description: spec.description,
        tags: [...spec.tags],
        type: spec.type,
        projectIds,
        runUntagged: spec.runUntagged ?? true,
        createdAt: isoMs(new Date(nowMs - (200 + this.runners.length) * 86_400_000)),
        version: '18.3.0',
        managerId: (managerId += this.random.int(1, 900)),
        systemId: `s_${this.random.hex(12)}`,
        paused: spec.paused ?? false,
        online,
        neverContacted: spec.neverContacted ?? false,
        stale: spec.stale ?? false,
        contactedAt: spec.neverContacted
          ? null
          : spec.stale
            ? isoMs(new Date(nowMs - 8 * 86_400_000))
            : online
              ? null
              : isoMs(new Date(nowMs - 3 * 3_600_000)),
        concurrent: Math.max(1, Math.floor(spec.concurrent ?? 1)),
        jobIds: new Set(),
      });
    }
  }

  nowIso(): string {
    return isoMs(this.now());
  }

  currentTime(): Date {
    return this.now();
  }

  projectByPath(path: string): SimProject | undefined {
    return this.projects.find((p) => p.path === path || `${this.group}/${p.path}` === path);
  }

  project(id: number): SimProject | undefined {
    return this.projects.find((p) => p.id === id);
  }

  runner(id: number): SimRunner | undefined {
    return this.runners.find((r) => r.id === id);
  }

  /** Pipelines of a project (children included), newest first. */
  pipelinesOf(projectId: number): SimPipeline[] {
    return [...this.pipelines.values()].filter((p) => p.projectId === projectId).sort((a, b) => b.id - a.id);
  }

  /** Every job of a pipeline (retried ones included), oldest first. */
  jobsOf(pipelineId: number): SimJob[] {
    const p = this.pipelines.get(pipelineId);
    return p ? p.jobIds.map((id) => this.jobs.get(id)).filter((j): j is SimJob => j !== undefined) : [];
  }

  /** The latest attempt of every job of a pipeline. */
  latestJobsOf(pipelineId: number): SimJob[] {
    return this.jobsOf(pipelineId).filter((j) => !j.retried);
  }

  /** Runner state as GitLab's REST API reports it (§7: `paused` shows in `status`). */
  runnerStatus(r: SimRunner): 'online' | 'offline' | 'stale' | 'never_contacted' | 'paused' {
    if (r.neverContacted) return 'never_contacted';
    if (r.stale) return 'stale';
    if (r.paused) return 'paused';
    return r.online ? 'online' : 'offline';
  }

  /** Online runners contact GitLab every few seconds; others keep their last contact. */
  runnerContactedAt(r: SimRunner): string | null {
    if (r.neverContacted) return null;
    if (r.online && !r.stale) return isoMs(new Date(this.now().getTime() - (r.id % 7) * 1000 - 1000));
    return r.contactedAt;
  }

  /** Which runners may serve a project: instance and group runners, plus the project's own. */
  runnerServes(r: SimRunner, projectId: number): boolean {
    return r.type !== 'project_type' || r.projectIds.includes(projectId);
  }

  canRun(r: SimRunner, job: SimJob): boolean {
    if (!r.online || r.paused || r.stale || r.neverContacted || r.jobIds.size >= r.concurrent) return false;
    if (!this.runnerServes(r, job.projectId)) return false;
    if (job.tags.length === 0) return r.runUntagged;
    // GitLab matches tags exactly (case-sensitive); the runner needs all of the job's tags.
    return job.tags.every((t) => r.tags.includes(t));
  }

  private changed(): void {
    this.version++;
  }

  // ---------------------------------------------------------------- creation

  createPipeline(
    spec: PipelineSpec,
    at: Date = this.now(),
    parent: { pipeline: SimPipeline; job: SimJob } | null = null,
  ): { pipeline: SimPipeline; events: WorldEvent[] } {
    const project = this.projectByPath(spec.project);
    if (!project) throw new Error(`unknown project ${spec.project}`);
    if (spec.jobs.length === 0) throw new Error('a pipeline needs at least one job');
    const ts = isoMs(at);
    const jobSpecs: (JobSpec & { bridge?: readonly JobSpec[] })[] = [...spec.jobs];
    if (spec.downstream) {
      const d = spec.downstream === true ? { jobs: [...DEFAULT_CHILD_JOBS] } : spec.downstream;
      jobSpecs.push({ name: d.name ?? 'trigger-child', stage: 'downstream', bridge: d.jobs });
    }
    const stages: string[] = [];
    for (const j of jobSpecs) if (!stages.includes(j.stage)) stages.push(j.stage);
    const iid = (this.iids.get(project.id) ?? 0) + 1;
    this.iids.set(project.id, iid);
    const ref = spec.ref ?? parent?.pipeline.ref ?? project.defaultBranch;
    const user = parent ? parent.pipeline.user : spec.source === 'schedule' ? USERS[0]! : this.random.pick(USERS);
    const pipeline: SimPipeline = {
      id: (this.nextPipelineId += this.random.int(1, 900)),
      iid,
      projectId: project.id,
      ref,
      tag: /^v\d/.test(ref),
      sha: parent ? parent.pipeline.sha : this.random.hex(40),
      beforeSha: parent ? parent.pipeline.beforeSha : this.random.hex(40),
      source: parent ? 'parent_pipeline' : (spec.source ?? 'push'),
      name: spec.name ?? null,
      message: parent ? parent.pipeline.message : this.random.pick(MESSAGES),
      user,
      createdAt: ts,
      stages,
      jobIds: [],
      parent: parent ? { pipelineId: parent.pipeline.id, jobId: parent.job.id, projectId: parent.pipeline.projectId } : null,
      status: 'created',
      warnings: false,
      processed: false,
      updatedAt: ts,
      startedAt: null,
      finishedAt: null,
    };
    this.pipelines.set(pipeline.id, pipeline);
    if (pipeline.source === 'push') project.lastActivityAt = ts;
    const events: WorldEvent[] = [];
    for (const js of jobSpecs) {
      const job = this.newJob(pipeline, js, ts, 0, js.bridge ?? null);
      // Builds send a Job Hook on creation; trigger jobs (bridges) never send Job Hooks.
      if (job.kind === 'build') events.push({ kind: 'job', jobId: job.id });
    }
    this.changed();
    return { pipeline, events };
  }

  private newJob(pipeline: SimPipeline, js: JobSpec, ts: string, retriesCount: number, downstream: readonly JobSpec[] | null): SimJob {
    const when = js.when ?? 'on_success';
    const job: SimJob = {
      id: (this.nextJobId += this.random.int(1, 60)),
      kind: downstream ? 'bridge' : 'build',
      pipelineId: pipeline.id,
      projectId: pipeline.projectId,
      name: js.name,
      stage: js.stage,
      stageIndex: Math.max(0, pipeline.stages.indexOf(js.stage)),
      tags: downstream ? [] : [...(js.tags ?? [])],
      outcome: js.outcome ?? 'success',
      when,
      // `when: manual` jobs default to allow_failure: true (non-blocking), as in .gitlab-ci.yml.
      allowFailure: js.allowFailure ?? when === 'manual',
      failureReason: js.failureReason ?? 'script_failure',
      resourceGroup: js.resourceGroup === true ? 'production' : typeof js.resourceGroup === 'string' ? js.resourceGroup : null,
      preparing: js.preparing ?? false,
      callback: js.callback ?? false,
      environment: js.environment ?? (js.resourceGroup ? 'production' : null),
      user: pipeline.user,
      createdAt: ts,
      retriesCount,
      downstream,
      status: 'created',
      queuedAt: null,
      startedAt: null,
      finishedAt: null,
      runnerId: null,
      retried: false,
      downstreamPipelineId: null,
      lastTouched: 0,
    };
    this.jobs.set(job.id, job);
    pipeline.jobIds.push(job.id);
    return job;
  }

  // ---------------------------------------------------------------- transitions

  private setJob(job: SimJob, status: Status, events: WorldEvent[]): void {
    if (job.status === status) return;
    const ts = this.nowIso();
    job.status = status;
    job.lastTouched = ++this.touch;
    if (status === 'pending') job.queuedAt = ts;
    if (status === 'running' && job.startedAt === null) job.startedAt = ts;
    if (COMPLETED.has(status)) {
      job.finishedAt = ts;
      this.releaseRunner(job);
    }
    if (status === 'created') {
      job.queuedAt = null;
      job.startedAt = null;
      job.finishedAt = null;
    }
    const p = this.pipelines.get(job.pipelineId);
    if (p) p.updatedAt = ts;
    if (job.kind === 'build') events.push({ kind: 'job', jobId: job.id });
    this.changed();
  }

  private releaseRunner(job: SimJob): void {
    const r = job.runnerId === null ? undefined : this.runner(job.runnerId);
    r?.jobIds.delete(job.id);
  }

  /** Enqueues a job whose turn has come (or that was played / whose delay elapsed). */
  private enqueue(job: SimJob, events: WorldEvent[], fromBlocked = false): void {
    if (!fromBlocked && job.outcome === 'skipped') return this.setJob(job, 'skipped', events);
    if (!fromBlocked && job.when === 'manual') return this.setJob(job, 'manual', events);
    if (!fromBlocked && job.when === 'delayed') return this.setJob(job, 'scheduled', events);
    if (job.resourceGroup !== null) return this.setJob(job, 'waiting_for_resource', events);
    if (job.preparing) return this.setJob(job, 'preparing', events);
    this.setJob(job, 'pending', events);
  }

  /** Runs GitLab's pipeline processing: enqueue or skip stages whose predecessors are done, then update the status. */
  processPipeline(p: SimPipeline, events: WorldEvent[]): void {
    p.processed = true;
    const latest = this.latestJobsOf(p.id);
    for (let stage = 0; stage < p.stages.length; stage++) {
      const prev = compositeStatus(latest.filter((j) => j.stageIndex < stage)).status;
      const waiting = latest.filter((j) => j.stageIndex === stage && j.status === 'created');
      if (waiting.length === 0) continue;
      if (prev === null || prev === 'success' || prev === 'skipped') {
        for (const j of waiting) this.enqueue(j, events);
      } else if (prev === 'failed' || prev === 'canceled') {
        for (const j of waiting) this.setJob(j, 'skipped', events);
      } else {
        break;
      }
    }
    this.refreshPipeline(p, events);
  }

  private refreshPipeline(p: SimPipeline, events: WorldEvent[]): void {
    const { status, warnings } = compositeStatus(this.latestJobsOf(p.id));
    const next = status ?? 'skipped';
    const ts = this.nowIso();
    p.warnings = warnings;
    if (next === p.status) return;
    p.status = next;
    p.updatedAt = ts;
    if (next === 'running' && p.startedAt === null) p.startedAt = ts;
    if (COMPLETED.has(next)) {
      p.finishedAt = ts;
      if (p.startedAt === null && next !== 'skipped') p.startedAt = ts;
    } else {
      p.finishedAt = null;
    }
    events.push({ kind: 'pipeline', pipelineId: p.id });
    this.changed();
    // A child pipeline's bridge (strategy: depend) mirrors the child's final status.
    if (p.parent && COMPLETED.has(next)) {
      const bridge = this.jobs.get(p.parent.jobId);
      const parent = this.pipelines.get(p.parent.pipelineId);
      if (bridge && parent && !COMPLETED.has(bridge.status)) {
        this.setJob(bridge, next === 'success' ? 'success' : next === 'skipped' ? 'skipped' : next === 'canceled' ? 'canceled' : 'failed', events);
        this.processPipeline(parent, events);
      }
    }
  }

  private resourceBusy(job: SimJob): boolean {
    const holding: ReadonlySet<Status> = new Set<Status>(['preparing', 'pending', 'running', 'canceling', 'waiting_for_callback']);
    return [...this.jobs.values()].some(
      (j) => j !== job && j.projectId === job.projectId && j.resourceGroup === job.resourceGroup && !j.retried && holding.has(j.status),
    );
  }

  /** Every transition that could happen now, in a deterministic order. */
  transitions(): Transition[] {
    const out: Transition[] = [];
    for (const p of [...this.pipelines.values()].sort((a, b) => a.id - b.id)) {
      if (!p.processed) out.push({ type: 'process', pipeline: p });
    }
    const jobs = [...this.jobs.values()].filter((j) => !j.retried).sort((a, b) => a.id - b.id);
    const grantedGroups = new Set<string>();
    for (const j of jobs) {
      if (j.status === 'waiting_for_resource') {
        const key = `${j.projectId}:${j.resourceGroup}`;
        if (!grantedGroups.has(key) && !this.resourceBusy(j)) {
          grantedGroups.add(key);
          out.push({ type: 'advance', job: j });
        }
      } else if (j.status === 'preparing' || j.status === 'scheduled' || j.status === 'canceling' || j.status === 'waiting_for_callback') {
        out.push({ type: 'advance', job: j });
      } else if (j.kind === 'bridge' && j.status === 'pending') {
        out.push({ type: 'advance', job: j });
      }
    }
    // Free slots per runner: a runner with `concurrent` > 1 may take several pending jobs.
    const claimed = new Map<number, number>();
    for (const j of jobs) {
      if (j.kind !== 'build' || j.status !== 'pending') continue;
      const runner = this.runners.find((r) => (claimed.get(r.id) ?? 0) + r.jobIds.size < r.concurrent && this.canRun(r, j));
      if (runner) {
        claimed.set(runner.id, (claimed.get(runner.id) ?? 0) + 1);
        out.push({ type: 'start', job: j, runner });
      }
    }
    const running = jobs.filter((j) => j.kind === 'build' && j.status === 'running').sort((a, b) => a.lastTouched - b.lastTouched || a.id - b.id);
    for (const j of running) out.push({ type: 'finish', job: j });
    return out;
  }

  apply(t: Transition): WorldEvent[] {
    switch (t.type) {
      case 'process': {
        const events: WorldEvent[] = [];
        this.processPipeline(t.pipeline, events);
        return events;
      }
      case 'start':
        return this.startJob(t.job, t.runner);
      case 'finish':
        return this.finishJob(t.job);
      case 'advance':
        return this.advance(t.job);
    }
  }

  private pipelineOf(job: SimJob): SimPipeline {
    const p = this.pipelines.get(job.pipelineId);
    if (!p) throw new Error(`pipeline ${job.pipelineId} missing`);
    return p;
  }

  startJob(job: SimJob, runner: SimRunner): WorldEvent[] {
    if (job.status !== 'pending' || !this.canRun(runner, job)) throw new Error(`job ${job.id} cannot start on ${runner.description}`);
    const events: WorldEvent[] = [];
    runner.jobIds.add(job.id);
    job.runnerId = runner.id;
    this.setJob(job, 'running', events);
    this.refreshPipeline(this.pipelineOf(job), events);
    return events;
  }

  /** The script ends: success/failed, a canceled outcome goes through `canceling`, a callback job waits. */
  finishJob(job: SimJob): WorldEvent[] {
    if (job.status !== 'running') throw new Error(`job ${job.id} is not running`);
    const events: WorldEvent[] = [];
    if (job.outcome === 'canceled') {
      this.setJob(job, 'canceling', events);
    } else if (job.callback) {
      this.releaseRunner(job);
      this.setJob(job, 'waiting_for_callback', events);
    } else {
      this.setJob(job, job.outcome === 'failed' ? 'failed' : 'success', events);
    }
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  private advance(job: SimJob): WorldEvent[] {
    const events: WorldEvent[] = [];
    const p = this.pipelineOf(job);
    switch (job.status) {
      case 'waiting_for_resource':
        if (job.preparing) this.setJob(job, 'preparing', events);
        else this.setJob(job, 'pending', events);
        break;
      case 'preparing':
        this.setJob(job, 'pending', events);
        break;
      case 'scheduled':
        this.enqueue(job, events, true);
        break;
      case 'canceling':
        this.setJob(job, 'canceled', events);
        break;
      case 'waiting_for_callback':
        this.setJob(job, job.outcome === 'failed' ? 'failed' : 'success', events);
        break;
      case 'pending':
        if (job.kind === 'bridge') {
          // The trigger job creates the child pipeline and waits for it (strategy: depend).
          const { pipeline: child, events: created } = this.createPipeline(
            { project: this.project(job.projectId)?.path ?? '', jobs: [...(job.downstream ?? DEFAULT_CHILD_JOBS)] },
            this.now(),
            { pipeline: p, job },
          );
          job.downstreamPipelineId = child.id;
          this.setJob(job, 'running', events);
          events.push(...created);
        }
        break;
      default:
        throw new Error(`job ${job.id} (${job.status}) cannot advance`);
    }
    this.processPipeline(p, events);
    return events;
  }

  /** Plays a manual job (POST /jobs/:id/play). */
  playJob(job: SimJob): WorldEvent[] {
    if (job.status !== 'manual') throw new Error(`job ${job.id} is not manual (${job.status})`);
    const events: WorldEvent[] = [];
    this.enqueue(job, events, true);
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  /**
   * Retries a finished job (POST /jobs/:id/retry): the old job is marked
   * retried, a clone with a new id is created and enqueued, and jobs of later
   * stages that were skipped are reset to `created` (Ci::ResetSkippedJobsService).
   */
  retryJob(job: SimJob, outcome: JobOutcome = 'success'): { job: SimJob; events: WorldEvent[] } {
    if (!COMPLETED.has(job.status) || job.retried || job.kind !== 'build') throw new Error(`job ${job.id} cannot be retried (${job.status})`);
    const p = this.pipelineOf(job);
    const events: WorldEvent[] = [];
    job.retried = true;
    const clone = this.newJob(
      p,
      {
        name: job.name, stage: job.stage, tags: [...job.tags], outcome, when: 'on_success', allowFailure: job.allowFailure,
        failureReason: job.failureReason, resourceGroup: job.resourceGroup ?? false, preparing: job.preparing,
        callback: job.callback, ...(job.environment ? { environment: job.environment } : {}),
      },
      this.nowIso(),
      job.retriesCount + 1,
      null,
    );
    events.push({ kind: 'job', jobId: clone.id });
    this.enqueue(clone, events, true);
    for (const j of this.latestJobsOf(p.id)) {
      if (j.stageIndex > job.stageIndex && j.status === 'skipped' && j.outcome !== 'skipped') this.setJob(j, 'created', events);
    }
    this.processPipeline(p, events);
    return { job: clone, events };
  }

  /** Cancels a job: a running one goes `canceling` (graceful), anything not finished goes `canceled`. */
  cancelJob(job: SimJob): WorldEvent[] {
    const events: WorldEvent[] = [];
    this.cancelOne(job, events);
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  private cancelOne(job: SimJob, events: WorldEvent[]): void {
    if (COMPLETED.has(job.status) || job.status === 'canceling') return;
    if (job.status === 'running' && job.kind === 'build') return this.setJob(job, 'canceling', events);
    if (job.kind === 'bridge' && job.downstreamPipelineId !== null) {
      const child = this.pipelines.get(job.downstreamPipelineId);
      if (child) for (const cj of this.latestJobsOf(child.id)) this.cancelOne(cj, events);
      if (child) this.refreshPipeline(child, events);
      if (COMPLETED.has(job.status)) return;
    }
    this.setJob(job, 'canceled', events);
  }

  /** Cancels every unfinished job of a pipeline (POST /pipelines/:id/cancel). */
  cancelPipeline(p: SimPipeline): WorldEvent[] {
    const events: WorldEvent[] = [];
    for (const j of this.latestJobsOf(p.id)) this.cancelOne(j, events);
    p.processed = true;
    this.refreshPipeline(p, events);
    return events;
  }

  setRunnerStatus(runner: SimRunner, s: { online?: boolean; paused?: boolean }): void {
    if (s.online !== undefined && s.online !== runner.online) {
      if (!s.online && runner.jobIds.size > 0) throw new Error(`runner ${runner.description} is busy`);
      runner.online = s.online;
      if (s.online) {
        runner.neverContacted = false;
        runner.stale = false;
      } else {
        runner.contactedAt = this.nowIso();
      }
    }
    if (s.paused !== undefined) runner.paused = s.paused;
    this.changed();
  }

  /** Drops the oldest finished top-level pipelines beyond `keep` per project (with their children). */
  prune(keep: number): void {
    for (const project of this.projects) {
      const done = this.pipelinesOf(project.id).filter((p) => p.parent === null && COMPLETED.has(p.status));
      for (const p of done.slice(keep)) this.dropPipeline(p);
    }
  }

  private dropPipeline(p: SimPipeline): void {
    for (const j of this.jobsOf(p.id)) {
      if (j.downstreamPipelineId !== null) {
        const child = this.pipelines.get(j.downstreamPipelineId);
        if (child) this.dropPipeline(child);
      }
      this.jobs.delete(j.id);
    }
    this.pipelines.delete(p.id);
    this.changed();
  }

  /** Pipelines at `root` and below (child pipelines). */
  private family(root: SimPipeline): Set<number> {
    const ids = new Set<number>([root.id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of this.pipelines.values()) {
        if (p.parent && ids.has(p.parent.pipelineId) && !ids.has(p.id)) {
          ids.add(p.id);
          grew = true;
        }
      }
    }
    return ids;
  }

  /** Pre-creates finished pipelines in the past, using the live transitions on a shifted clock. */
  seedHistory(perProject: number, makeSpec: (project: string) => PipelineSpec): void {
    if (perProject <= 0) return;
    const realNow = this.now;
    const base = realNow().getTime();
    let clock = base;
    this.now = () => new Date(clock);
    try {
      for (let i = perProject; i >= 1; i--) {
        for (const project of this.projects) {
          clock = base - i * 15 * 60_000 - this.random.int(0, 120) * 1000;
          const { pipeline } = this.createPipeline(makeSpec(project.path), new Date(clock));
          let guard = 0;
          while (!COMPLETED.has(pipeline.status) || !pipeline.processed) {
            if (guard++ > 500) break;
            clock = Math.min(base, clock + this.random.int(2, 40) * 1000);
            const fam = this.family(pipeline);
            const t = this.transitions().find((x) => fam.has(x.type === 'process' ? x.pipeline.id : x.job.pipelineId));
            if (t) {
              this.apply(t);
              continue;
            }
            // Blocked (a manual job, or a job no runner can take): leave it as GitLab would show it.
            break;
          }
          // Jobs nobody could run stay pending forever on GitLab until the stuck timeout fails them.
          for (const j of this.latestJobsOf(pipeline.id)) {
            if (j.status === 'pending') {
              const events: WorldEvent[] = [];
              j.runnerId = null;
              (j as { failureReason: string }).failureReason = 'stuck_or_timeout_failure';
              this.setJob(j, 'failed', events);
              this.processPipeline(pipeline, events);
            }
          }
        }
      }
    } finally {
      this.now = realNow;
    }
  }
}
