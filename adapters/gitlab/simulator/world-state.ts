/**
 * The state of the simulated GitLab CI world: what exists, the clock and the
 * random source, and the read-only queries the HTTP layer and the transitions
 * share. What GitLab does on its own lives in world-lifecycle.ts, what users
 * do in world.ts.
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { isoMs, type RunnerSpec, type SimDeployment, type SimJob, type SimPipeline, type SimProject, type SimRunner } from './world-entities.ts';
import { seedProjects, seedRunners } from './world-seed.ts';

export interface WorldOptions {
  group: string;
  projects: readonly string[];
  runners: readonly RunnerSpec[];
  now: () => Date;
  random: Random;
}

export class WorldState {
  readonly group: string;
  readonly groupId: number;
  readonly projects: SimProject[] = [];
  readonly pipelines = new Map<number, SimPipeline>();
  readonly jobs = new Map<number, SimJob>();
  readonly runners: SimRunner[] = [];
  readonly deployments = new Map<number, SimDeployment>();
  /** Bumped on every change. */
  version = 0;

  // Not readonly: seedHistory() swaps in a past clock while it builds history.
  protected now: () => Date;
  protected readonly random: Random;

  constructor(options: WorldOptions) {
    this.now = options.now;
    this.random = options.random;
    this.group = options.group;
    this.groupId = 60_000_000 + this.random.int(0, 9_999_999);
    const nowMs = this.now().getTime();
    this.projects.push(...seedProjects(options.projects, nowMs, this.random));
    this.runners.push(...seedRunners(options.runners, this.projects[0], (p) => this.projectByPath(p), nowMs, this.random));
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

  protected changed(): void {
    this.version++;
  }
}
