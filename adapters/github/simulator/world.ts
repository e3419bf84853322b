/**
 * The simulated GitHub Actions world: repositories, workflows, runs, jobs and
 * self-hosted runners, plus the transitions that move them. Pure state; it
 * knows nothing about HTTP. Every mutating method returns the webhook events
 * the transition causes, in the order GitHub would send them.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';

export type JobOutcome = 'success' | 'failure' | 'cancelled' | 'skipped' | 'timed_out';
export type RunStatus = 'queued' | 'in_progress' | 'completed';
export type JobStatus = 'queued' | 'in_progress' | 'completed';

export interface SimActor {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Bot' | 'Organization';
}

export interface SimRepo {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly language: string;
  readonly defaultBranch: string;
  readonly createdAt: string;
  pushedAt: string;
  updatedAt: string;
}

export interface SimWorkflow {
  readonly id: number;
  readonly repo: string;
  readonly name: string;
  readonly path: string;
  readonly createdAt: string;
}

export interface SimPullRequest {
  readonly id: number;
  readonly number: number;
  readonly title: string;
  readonly baseSha: string;
}

export interface SimRun {
  readonly id: number;
  readonly repo: string;
  readonly workflowId: number;
  readonly runNumber: number;
  readonly runAttempt: number;
  readonly event: string;
  readonly branch: string;
  readonly sha: string;
  readonly treeId: string;
  readonly message: string;
  readonly actor: SimActor;
  readonly checkSuiteId: number;
  readonly pullRequest: SimPullRequest | null;
  readonly createdAt: string;
  readonly jobIds: number[];
  status: RunStatus;
  conclusion: string | null;
  updatedAt: string;
  runStartedAt: string;
}

export interface SimStep {
  readonly name: string;
  readonly number: number;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | 'skipped' | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface SimJob {
  readonly id: number;
  readonly runId: number;
  readonly repo: string;
  readonly name: string;
  readonly labels: readonly string[];
  readonly outcome: JobOutcome;
  readonly createdAt: string;
  /** Step names the runner will execute (GitHub shows steps only once a runner has the job). */
  readonly plannedSteps: readonly string[];
  /** Index of the step where a failing/cancelled/timed-out job stops. */
  readonly stopAt: number;
  status: JobStatus;
  conclusion: JobOutcome | null;
  startedAt: string;
  completedAt: string | null;
  steps: SimStep[];
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupId: number | null;
  runnerGroupName: string | null;
  /** Fairness counter: the job advanced least recently goes next. */
  lastTouched: number;
}

export interface SimRunnerLabel {
  readonly id: number;
  readonly name: string;
  readonly type: 'read-only' | 'custom';
}

export interface SimRunner {
  readonly id: number;
  readonly name: string;
  readonly os: string;
  readonly labels: readonly SimRunnerLabel[];
  readonly scope: 'org' | { readonly repo: string };
  readonly version: string;
  readonly groupId: number;
  readonly groupName: string;
  status: 'online' | 'offline';
  jobId: number | null;
}

export interface RunnerSpec {
  name: string;
  labels: string[];
  scope: 'org' | { repo: string };
  status?: 'online' | 'offline';
}

export interface JobSpec {
  name: string;
  labels?: string[];
  outcome?: JobOutcome;
  steps?: string[];
}

export interface RunSpec {
  repo: string;
  workflow?: string;
  branch?: string;
  event?: string;
  jobs: JobSpec[];
}

export type WorldEvent =
  | { readonly event: 'workflow_run'; readonly action: 'requested' | 'in_progress' | 'completed'; readonly runId: number }
  | { readonly event: 'workflow_job'; readonly action: 'queued' | 'in_progress' | 'completed'; readonly jobId: number };

/** GitHub's timestamp format: ISO-8601 UTC without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const BRANCHES = ['main', 'main', 'main', 'feature/login', 'fix/flaky-test', 'renovate/vitest-3.x', 'release/2.4'];
const MESSAGES = [
  'Fix race in cache invalidation', 'Add retry to upstream client', 'Bump dependencies',
  'Refactor config loader', 'Improve error messages', 'Add metrics endpoint', 'Update README',
  'Tune connection pool', 'Handle empty pages in pagination', 'Speed up test suite',
];
const ACTORS: readonly SimActor[] = [
  { login: 'monalisa', id: 2154101, type: 'User' },
  { login: 'hubot', id: 480938, type: 'User' },
  { login: 'octocat', id: 583231, type: 'User' },
  { login: 'dependabot[bot]', id: 49699333, type: 'Bot' },
];
const WORKFLOWS = [
  { name: 'CI', file: 'ci.yml' },
  { name: 'Deploy', file: 'deploy.yml' },
  { name: 'Nightly', file: 'nightly.yml' },
];
const LANGUAGES = ['TypeScript', 'Go', 'HCL', 'Python'];
const ORG_RUNNER_GROUP = { id: 1, name: 'Default' } as const;

export const DEFAULT_RUNNERS: readonly RunnerSpec[] = [
  { name: 'linux-x64-1', labels: ['self-hosted', 'Linux', 'X64'], scope: 'org' },
  { name: 'linux-x64-2', labels: ['self-hosted', 'Linux', 'X64'], scope: 'org' },
  { name: 'linux-arm64-1', labels: ['self-hosted', 'Linux', 'ARM64'], scope: 'org' },
  { name: 'macos-arm64-1', labels: ['self-hosted', 'macOS', 'ARM64'], scope: 'org', status: 'offline' },
];

/**
 * `runs-on` labels of GitHub-hosted runner images. A job whose labels are one
 * of these runs on a fresh GitHub-hosted VM, not on a self-hosted runner.
 */
const HOSTED_IMAGE_LABELS = new Set([
  'ubuntu-latest', 'ubuntu-24.04', 'ubuntu-22.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm',
  'windows-latest', 'windows-2025', 'windows-2022', 'macos-latest', 'macos-15', 'macos-14', 'macos-13',
]);

/**
 * GitHub-hosted runners as jobs report them: a fresh VM per job, named
 * `GitHub Actions <runner_id>`, in the runner group "GitHub Actions" with id 0
 * (recorded REST and webhook payloads of github.com jobs). No runner listing
 * (org or repository) ever contains them.
 */
export const HOSTED_RUNNER_GROUP = { id: 0, name: 'GitHub Actions' } as const;

export function runsOnGithubHosted(labels: readonly string[]): boolean {
  return labels.length === 1 && HOSTED_IMAGE_LABELS.has(labels[0]!.toLowerCase());
}

/** Labels GitHub adds itself (read-only); everything else is custom. */
const READ_ONLY_LABELS = new Set(['self-hosted', 'linux', 'macos', 'windows', 'x64', 'arm64', 'arm']);

export interface WorldOptions {
  org: string;
  repositories: readonly string[];
  runners: readonly RunnerSpec[];
  now: () => Date;
  random: Random;
}

export class World {
  readonly org: string;
  readonly orgId: number;
  readonly orgOwner: SimActor;
  readonly repos: SimRepo[] = [];
  readonly workflows: SimWorkflow[] = [];
  readonly runs = new Map<number, SimRun>();
  readonly jobs = new Map<number, SimJob>();
  readonly runners: SimRunner[] = [];
  /** Bumped on every change; lets callers cheaply tell whether anything moved. */
  version = 0;

  // Not readonly: seedHistory() swaps in a past clock while it builds history.
  private now: () => Date;
  private readonly random: Random;
  // Separate, monotonic id spaces at realistic magnitudes (GitHub ids are large).
  private nextRunId = 11_000_000_000;
  private nextJobId = 31_000_000_000;
  private nextCheckSuiteId = 29_000_000_000;
  private nextLabelId = 1;
  /** GitHub-hosted runner ids are large and never reused (one VM per job). */
  private nextHostedRunnerId = 1_000_000_000;
  private touch = 0;
  private readonly runNumbers = new Map<number, number>();

  constructor(options: WorldOptions) {
    this.now = options.now;
    this.random = options.random;
    this.org = options.org;
    this.orgId = 90_000_000 + this.random.int(0, 9_999_999);
    this.orgOwner = { login: this.org, id: this.orgId, type: 'Organization' };
    const nowMs = this.now().getTime();
    let repoId = 700_000_000 + this.random.int(0, 99_999_999);
    let workflowId = 100_000_000 + this.random.int(0, 9_999_999);
    options.repositories.forEach((name, i) => {
      const created = isoSeconds(new Date(nowMs - (400 - i * 30) * 86_400_000));
      this.repos.push({
        id: (repoId += this.random.int(1000, 90_000)),
        name,
        description: `The ${name} service`,
        language: LANGUAGES[i % LANGUAGES.length] ?? 'TypeScript',
        defaultBranch: 'main',
        createdAt: created,
        pushedAt: isoSeconds(new Date(nowMs - 3_600_000)),
        updatedAt: isoSeconds(new Date(nowMs - 3_600_000)),
      });
      for (const wf of WORKFLOWS) {
        this.workflows.push({
          id: (workflowId += this.random.int(1, 5000)),
          repo: name,
          name: wf.name,
          path: `.github/workflows/${wf.file}`,
          createdAt: created,
        });
      }
    });
    let runnerId = 10 + this.random.int(0, 20);
    for (const spec of options.runners) {
      const lower = spec.labels.map((l) => l.toLowerCase());
      this.runners.push({
        id: runnerId++,
        name: spec.name,
        os: lower.includes('macos') ? 'macOS' : lower.includes('windows') ? 'Windows' : 'Linux',
        labels: spec.labels.map((name) => ({
          id: this.nextLabelId++,
          name,
          type: READ_ONLY_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom',
        })),
        scope: spec.scope,
        version: '2.329.0',
        groupId: ORG_RUNNER_GROUP.id,
        groupName: ORG_RUNNER_GROUP.name,
        status: spec.status ?? 'online',
        jobId: null,
      });
    }
  }

  nowIso(): string {
    return isoSeconds(this.now());
  }

  repo(name: string): SimRepo | undefined {
    return this.repos.find((r) => r.name === name);
  }

  workflow(id: number): SimWorkflow | undefined {
    return this.workflows.find((w) => w.id === id);
  }

  runsOf(repo: string): SimRun[] {
    return [...this.runs.values()].filter((r) => r.repo === repo).sort((a, b) => b.id - a.id);
  }

  jobsOf(runId: number): SimJob[] {
    const run = this.runs.get(runId);
    return run ? run.jobIds.map((id) => this.jobs.get(id)).filter((j): j is SimJob => j !== undefined) : [];
  }

  runner(id: number): SimRunner | undefined {
    return this.runners.find((r) => r.id === id);
  }

  /** Runners visible to a repository's jobs: org runners plus that repo's own. */
  runnersFor(repo: string): SimRunner[] {
    return this.runners.filter((r) => r.scope === 'org' || r.scope.repo === repo);
  }

  private changed(): void {
    this.version++;
  }

  /**
   * Creates a run and its jobs. Jobs are queued at once (GitHub queues every
   * job whose needs are met; the simulator has no `needs`). Skipped jobs
   * complete immediately without a runner, as `if:`-skipped jobs do.
   */
  createRun(spec: RunSpec, at: Date = this.now()): { run: SimRun; events: WorldEvent[] } {
    const repo = this.repo(spec.repo);
    if (!repo) throw new Error(`unknown repository ${spec.repo}`);
    if (spec.jobs.length === 0) throw new Error('a run needs at least one job');
    const workflow =
      this.workflows.find((w) => w.repo === repo.name && (w.name === spec.workflow || w.path.endsWith(`/${spec.workflow}`))) ??
      this.workflows.find((w) => w.repo === repo.name);
    if (!workflow) throw new Error(`no workflow in ${repo.name}`);
    const ts = isoSeconds(at);
    const event = spec.event ?? 'push';
    const branch = spec.branch ?? (event === 'pull_request' ? this.random.pick(BRANCHES.slice(3)) : repo.defaultBranch);
    const runNumber = (this.runNumbers.get(workflow.id) ?? 0) + 1;
    this.runNumbers.set(workflow.id, runNumber);
    const message = this.random.pick(MESSAGES);
    const actor = event === 'schedule' ? ACTORS[0]! : this.random.pick(ACTORS);
    const sha = this.random.hex(40);
    const run: SimRun = {
      id: (this.nextRunId += this.random.int(1, 400)),
      repo: repo.name,
      workflowId: workflow.id,
      runNumber,
      runAttempt: 1,
      event,
      branch,
      sha,
      treeId: this.random.hex(40),
      message,
      actor,
      checkSuiteId: (this.nextCheckSuiteId += this.random.int(1, 900)),
      pullRequest:
        event === 'pull_request'
          ? { id: 2_100_000_000 + this.random.int(0, 99_999_999), number: this.random.int(10, 900), title: message, baseSha: this.random.hex(40) }
          : null,
      createdAt: ts,
      jobIds: [],
      status: 'queued',
      conclusion: null,
      updatedAt: ts,
      runStartedAt: ts,
    };
    this.runs.set(run.id, run);
    if (event === 'push') {
      repo.pushedAt = ts;
      repo.updatedAt = ts;
    }
    const events: WorldEvent[] = [{ event: 'workflow_run', action: 'requested', runId: run.id }];
    for (const js of spec.jobs) {
      const outcome = js.outcome ?? 'success';
      const userSteps = js.steps && js.steps.length > 0 ? js.steps : ['Run actions/checkout@v4', `Run ${js.name}`];
      const plannedSteps = ['Set up job', ...userSteps, 'Complete job'];
      const job: SimJob = {
        id: (this.nextJobId += this.random.int(1, 60)),
        runId: run.id,
        repo: repo.name,
        name: js.name,
        labels: js.labels ?? ['self-hosted', 'Linux'],
        outcome,
        createdAt: ts,
        plannedSteps,
        // A failing job fails in its last user step, later steps are skipped.
        stopAt: plannedSteps.length - 2,
        status: 'queued',
        conclusion: null,
        // GitHub reports started_at = creation time while a job is still queued.
        startedAt: ts,
        completedAt: null,
        steps: [],
        runnerId: null,
        runnerName: null,
        runnerGroupId: null,
        runnerGroupName: null,
        lastTouched: 0,
      };
      this.jobs.set(job.id, job);
      run.jobIds.push(job.id);
      if (outcome === 'skipped') {
        job.status = 'completed';
        job.conclusion = 'skipped';
        job.completedAt = ts;
        events.push({ event: 'workflow_job', action: 'completed', jobId: job.id });
      } else {
        events.push({ event: 'workflow_job', action: 'queued', jobId: job.id });
      }
    }
    events.push(...this.maybeCompleteRun(run));
    this.changed();
    return { run, events };
  }

  private canRun(runner: SimRunner, job: SimJob): boolean {
    if (runner.status !== 'online' || runner.jobId !== null) return false;
    if (runner.scope !== 'org' && runner.scope.repo !== job.repo) return false;
    // GitHub matches runs-on labels case-insensitively; the runner needs all of them.
    const have = new Set(runner.labels.map((l) => l.name.toLowerCase()));
    return job.labels.every((l) => have.has(l.toLowerCase()));
  }

  /**
   * Queued jobs that some idle online runner can take right now, oldest first.
   * `runner: null` means a GitHub-hosted VM takes it (no capacity limit is modelled).
   */
  startable(): { job: SimJob; runner: SimRunner | null }[] {
    const out: { job: SimJob; runner: SimRunner | null }[] = [];
    const claimed = new Set<number>();
    const queued = [...this.jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.id - b.id);
    for (const job of queued) {
      if (runsOnGithubHosted(job.labels)) {
        out.push({ job, runner: null });
        continue;
      }
      const runner = this.runners.find((r) => !claimed.has(r.id) && this.canRun(r, job));
      if (runner) {
        claimed.add(runner.id);
        out.push({ job, runner });
      }
    }
    return out;
  }

  /** In-progress jobs, least recently advanced first. */
  advanceable(): SimJob[] {
    return [...this.jobs.values()]
      .filter((j) => j.status === 'in_progress')
      .sort((a, b) => a.lastTouched - b.lastTouched || a.id - b.id);
  }

  /** Starts `job` on `runner`, or on a fresh GitHub-hosted VM when `runner` is null. */
  startJob(job: SimJob, runner: SimRunner | null): WorldEvent[] {
    const fits = runner ? this.canRun(runner, job) : runsOnGithubHosted(job.labels);
    if (job.status !== 'queued' || !fits) throw new Error(`job ${job.id} cannot start on ${runner?.name ?? 'a GitHub-hosted runner'}`);
    const run = this.runs.get(job.runId);
    if (!run) throw new Error(`run ${job.runId} missing`);
    const ts = this.nowIso();
    const events: WorldEvent[] = [];
    if (run.status === 'queued') {
      run.status = 'in_progress';
      run.updatedAt = ts;
      events.push({ event: 'workflow_run', action: 'in_progress', runId: run.id });
    }
    job.status = 'in_progress';
    job.startedAt = ts;
    if (runner) {
      runner.jobId = job.id;
      job.runnerId = runner.id;
      job.runnerName = runner.name;
      job.runnerGroupId = runner.groupId;
      job.runnerGroupName = runner.groupName;
    } else {
      const id = (this.nextHostedRunnerId += this.random.int(1, 500));
      job.runnerId = id;
      job.runnerName = `GitHub Actions ${id}`;
      job.runnerGroupId = HOSTED_RUNNER_GROUP.id;
      job.runnerGroupName = HOSTED_RUNNER_GROUP.name;
    }
    job.steps = job.plannedSteps.map((name, i) => ({
      name,
      number: i + 1,
      status: i === 0 ? 'in_progress' : 'queued',
      conclusion: null,
      startedAt: i === 0 ? ts : null,
      completedAt: null,
    }));
    job.lastTouched = ++this.touch;
    run.updatedAt = ts;
    events.push({ event: 'workflow_job', action: 'in_progress', jobId: job.id });
    this.changed();
    return events;
  }

  /**
   * Finishes the current step and starts the next one (no webhook: GitHub
   * sends none for steps). Completes the job, and the run if it was the last
   * job, when the final step is done.
   */
  advanceJob(job: SimJob): WorldEvent[] {
    if (job.status !== 'in_progress') throw new Error(`job ${job.id} is not in progress`);
    const run = this.runs.get(job.runId);
    if (!run) throw new Error(`run ${job.runId} missing`);
    const ts = this.nowIso();
    job.lastTouched = ++this.touch;
    run.updatedAt = ts;
    this.changed();
    const idx = job.steps.findIndex((s) => s.status === 'in_progress');
    const current = job.steps[idx];
    if (!current) throw new Error(`job ${job.id} has no running step`);
    current.status = 'completed';
    current.completedAt = ts;
    const stopsHere = job.outcome !== 'success' && idx === job.stopAt;
    if (stopsHere) {
      current.conclusion = job.outcome === 'cancelled' ? 'cancelled' : 'failure';
      // Later steps never ran; GitHub reports them skipped, except the cleanup step.
      job.steps.forEach((s, i) => {
        if (i <= idx) return;
        s.status = 'completed';
        s.conclusion = i === job.steps.length - 1 ? 'success' : 'skipped';
        s.startedAt = ts;
        s.completedAt = ts;
      });
      return this.completeJob(job, run, ts);
    }
    current.conclusion = 'success';
    const nextStep = job.steps[idx + 1];
    if (!nextStep) return this.completeJob(job, run, ts);
    nextStep.status = 'in_progress';
    nextStep.startedAt = ts;
    return [];
  }

  private completeJob(job: SimJob, run: SimRun, ts: string): WorldEvent[] {
    job.status = 'completed';
    job.conclusion = job.outcome;
    job.completedAt = ts;
    const runner = job.runnerId === null ? undefined : this.runner(job.runnerId);
    if (runner && runner.jobId === job.id) runner.jobId = null;
    return [{ event: 'workflow_job', action: 'completed', jobId: job.id }, ...this.maybeCompleteRun(run)];
  }

  private maybeCompleteRun(run: SimRun): WorldEvent[] {
    const jobs = this.jobsOf(run.id);
    if (run.status === 'completed' || jobs.some((j) => j.status !== 'completed')) return [];
    const conclusions = jobs.map((j) => j.conclusion);
    run.status = 'completed';
    run.conclusion = conclusions.some((c) => c === 'failure' || c === 'timed_out')
      ? 'failure'
      : conclusions.some((c) => c === 'cancelled')
        ? 'cancelled'
        : conclusions.every((c) => c === 'skipped')
          ? 'skipped'
          : 'success';
    run.updatedAt = this.nowIso();
    return [{ event: 'workflow_run', action: 'completed', runId: run.id }];
  }

  /** Runner online/offline flips; only idle runners go offline (a busy one would fail its job). */
  setRunnerStatus(runner: SimRunner, status: 'online' | 'offline'): void {
    if (status === 'offline' && runner.jobId !== null) throw new Error(`runner ${runner.name} is busy`);
    if (runner.status !== status) {
      runner.status = status;
      this.changed();
    }
  }

  /**
   * Drops the oldest completed runs beyond `keep` per repository, so a demo
   * left running for days does not grow without bound.
   */
  prune(keep: number): void {
    for (const repo of this.repos) {
      const completed = this.runsOf(repo.name).filter((r) => r.status === 'completed');
      for (const run of completed.slice(keep)) {
        for (const id of run.jobIds) this.jobs.delete(id);
        this.runs.delete(run.id);
        this.changed();
      }
    }
  }

  /**
   * Pre-creates finished runs in the past so a fresh simulator already has
   * data to list. Uses the same transitions as live runs, with a shifted clock.
   */
  seedHistory(perRepo: number, makeSpec: (repo: string) => RunSpec): void {
    if (perRepo <= 0) return;
    const realNow = this.now;
    const base = realNow().getTime();
    let clock = base;
    this.now = () => new Date(clock);
    try {
      for (let i = perRepo; i >= 1; i--) {
        for (const repo of this.repos) {
          // Runs 12 min apart; each finishes within ~7 min, so history always ends in the past.
          clock = base - i * 12 * 60_000 - this.random.int(0, 120) * 1000;
          const { run } = this.createRun(makeSpec(repo.name), new Date(clock));
          let guard = 0;
          while (run.status !== 'completed' && guard++ < 500) {
            clock = Math.min(base, clock + this.random.int(2, 15) * 1000);
            const start = this.startable().find((s) => s.job.runId === run.id);
            if (start) {
              this.startJob(start.job, start.runner);
              continue;
            }
            const job = this.advanceable().find((j) => j.runId === run.id);
            if (job) {
              this.advanceJob(job);
              continue;
            }
            // No runner can ever take a job (e.g. its runner is offline): cancel it, as GitHub does after 24 h.
            for (const j of this.jobsOf(run.id)) {
              if (j.status === 'queued') {
                j.status = 'completed';
                j.conclusion = 'cancelled';
                j.completedAt = this.nowIso();
              }
            }
            this.maybeCompleteRun(run);
          }
        }
      }
    } finally {
      this.now = realNow;
    }
  }
}
