/**
 * The state of the simulated GitHub Actions world: what exists, the clock and
 * the random source, and the read-only queries the HTTP layer and the
 * transitions share. The transitions live in world-lifecycle.ts (what GitHub
 * does on its own) and world.ts (what users do).
 */
import type { Random } from '../../../sim-kit/seeded-random.ts';
import { isoSeconds, type RunnerSpec, type SimActor, type SimJob, type SimRepo, type SimRun, type SimRunner, type SimWorkflow } from './world-entities.ts';
import { seedRepositories, seedRunners } from './world-seed.ts';

export interface WorldOptions {
  org: string;
  repositories: readonly string[];
  runners: readonly RunnerSpec[];
  now: () => Date;
  random: Random;
}
export class WorldState {
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
  protected now: () => Date;
  protected readonly random: Random;

  constructor(options: WorldOptions) {
    this.now = options.now;
    this.random = options.random;
    this.org = options.org;
    this.orgId = 90_000_000 + this.random.int(0, 9_999_999);
    this.orgOwner = { login: this.org, id: this.orgId, type: 'Organization' };
    const { repos, workflows } = seedRepositories(options.repositories, this.now().getTime(), this.random);
    this.repos.push(...repos);
    this.workflows.push(...workflows);
    this.runners.push(...seedRunners(options.runners, this.random));
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

  protected changed(): void {
    this.version++;
  }

}
