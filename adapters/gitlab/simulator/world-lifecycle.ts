/**
 * What GitLab does on its own in the simulated world, following its status
 * semantics (see world.ts): creates pipelines and their jobs (a trigger job
 * creates a child pipeline itself), processes stages, hands pending jobs to
 * runners, and moves jobs through GitLab's statuses. Every transition returns
 * the webhook events it causes, in order (job hooks before the pipeline hook
 * they lead to).
 */
import {
  COMPLETED, isoMs,
  type JobSpec, type PipelineSpec, type SimDeployment, type SimJob, type SimPipeline, type SimRunner, type Status, type Transition, type WorldEvent,
} from './world-entities.ts';
import { DEFAULT_CHILD_JOBS, MESSAGES, USERS } from './world-seed.ts';
import { WorldState } from './world-state.ts';

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

export class WorldLifecycle extends WorldState {
  // Protected: the seeded past (World.allocatePast) draws from the same id spaces.
  protected nextPipelineId = 2_000_000_000;
  protected nextJobId = 11_000_000_000;
  protected readonly iids = new Map<number, number>();
  private touch = 0;

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
      ...(spec.variables ? { variables: [...spec.variables] } : {}),
      ...(spec.inputs ? { inputs: { ...spec.inputs } } : {}),
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

  protected newJob(pipeline: SimPipeline, js: JobSpec, ts: string, retriesCount: number, downstream: readonly JobSpec[] | null): SimJob {
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
      ...(js.approval ? { approval: true } : {}),
    };
    this.jobs.set(job.id, job);
    pipeline.jobIds.push(job.id);
    return job;
  }

  // ---------------------------------------------------------------- transitions

  protected setJob(job: SimJob, status: Status, events: WorldEvent[]): void {
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
  protected enqueue(job: SimJob, events: WorldEvent[], fromBlocked = false): void {
    if (!fromBlocked && job.outcome === 'skipped') return this.setJob(job, 'skipped', events);
    if (!fromBlocked && job.when === 'manual') return this.setJob(job, 'manual', events);
    if (!fromBlocked && job.when === 'delayed') return this.setJob(job, 'scheduled', events);
    // A deployment to an environment that needs approval: blocked (`manual`) until every approval is given.
    if (job.approval && !this.deploymentApproved(job)) return this.blockForApproval(job, events);
    if (job.resourceGroup !== null) return this.setJob(job, 'waiting_for_resource', events);
    if (job.preparing) return this.setJob(job, 'preparing', events);
    this.setJob(job, 'pending', events);
  }

  private nextDeploymentId = 7_000_000;

  deploymentOf(job: SimJob): SimDeployment | undefined {
    return [...this.deployments.values()].find((d) => d.jobId === job.id);
  }

  private deploymentApproved(job: SimJob): boolean {
    return this.deploymentOf(job)?.status === 'created';
  }

  private blockForApproval(job: SimJob, events: WorldEvent[]): void {
    if (!this.deploymentOf(job)) {
      const ts = this.nowIso();
      const iid = [...this.deployments.values()].filter((d) => d.projectId === job.projectId).length + 1;
      const id = (this.nextDeploymentId += this.random.int(1, 50));
      this.deployments.set(id, {
        id, iid, projectId: job.projectId, jobId: job.id, environment: job.environment ?? 'production',
        createdAt: ts, updatedAt: ts, status: 'blocked', approvals: [],
      });
    }
    this.setJob(job, 'manual', events);
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

  protected refreshPipeline(p: SimPipeline, events: WorldEvent[]): void {
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

  protected pipelineOf(job: SimJob): SimPipeline {
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
}
