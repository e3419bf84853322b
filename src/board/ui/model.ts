import { projectMatcher, type BoardFilters } from './filters.ts';
import type { BoardData, CiStatus, RedSinceData, Pipeline, PipelineEvent, Pool, Project } from './types.ts';

export const RED: ReadonlySet<CiStatus> = new Set(['FAILURE', 'TIMED_OUT', 'ERROR']);

const FINISHED: ReadonlySet<CiStatus> = new Set(['SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED']);

export type TransitionKind = 'failed' | 'fixed' | 'canceled';

export interface Transition {
  readonly key: string;
  readonly kind: TransitionKind;
  readonly pipeline: Pipeline;
  readonly at: string;
}

const FEED_LENGTH = 50;
const branchKey = (p: Pipeline) => `${p.project.id}|${p.branch ?? ''}`;

/**
 * What the board shows, kept up to date from the first query and then from events:
 * the wall (each project's latest pipeline on its wall branch), since when each branch is red,
 * and the feed of transitions. Mutable, with a version the view watches.
 */
export class BoardModel {
  readonly projects = new Map<string, Project>();
  readonly wall = new Map<string, Pipeline>();
  readonly pools = new Map<string, Pool>();
  /** Queue depth samples per pool, oldest first (the live end of the sparkline). */
  readonly pressure = new Map<string, number[]>();
  feed: Transition[] = [];
  private readonly outcome = new Map<string, 'red' | 'green'>();
  private readonly redSince = new Map<string, string>();
  private readonly seen = new Set<string>();
  private readonly matches: (fullName: string) => boolean;

  constructor(private readonly filters: BoardFilters) {
    this.matches = projectMatcher(filters);
  }

  /** The branch a project's wall cell follows: the chosen one, else its default (any branch when it has none, as Jenkins jobs). */
  wallBranch(project: { defaultBranch: string | null }): string | null {
    return this.filters.branch || project.defaultBranch;
  }

  private shown(p: Pipeline): boolean {
    if (this.filters.backend && p.backend.name !== this.filters.backend) return false;
    if (this.filters.branch && p.branch !== this.filters.branch) return false;
    return this.matches(p.project.fullName);
  }

  load(data: BoardData): void {
    for (const project of data.projects.nodes) {
      if (this.filters.backend && project.backend.name !== this.filters.backend) continue;
      if (this.matches(project.fullName)) this.projects.set(project.id, project);
    }
    const pipelines = data.pipelines.nodes.filter((p) => this.shown(p));
    for (const p of pipelines) this.placeOnWall(p);
    // Oldest first, so a red streak starts at its first red pipeline.
    for (const p of [...pipelines].reverse()) this.noteOutcome(p);
  }

  /** The history's open red periods: older than the first page can tell. */
  loadRedSince(data: RedSinceData): void {
    for (const s of data.timeToGreen?.series ?? []) {
      if (!s.ongoing) continue;
      const project = [...this.projects.values()].find((x) => x.backend.name === s.backend && x.fullName === s.project);
      if (project) this.redSince.set(`${project.id}|${s.branch ?? ''}`, s.ongoing.startedAt);
    }
  }

  /** Projects that have no pipeline on the wall yet (their latest is older than the first page). */
  missing(): Project[] {
    return [...this.projects.values()].filter((p) => !this.wall.has(p.id));
  }

  placeOnWall(p: Pipeline): boolean {
    const project = this.projects.get(p.project.id);
    if (!project) return false;
    const branch = this.wallBranch(project);
    if (branch !== null && p.branch !== branch) return false;
    const current = this.wall.get(project.id);
    if (current && current.id !== p.id && p.createdAt < current.createdAt) return false;
    // An event queued before the first query must not take a finished pipeline back to running.
    if (current && current.id === p.id && FINISHED.has(current.status) && !FINISHED.has(p.status)) return false;
    this.wall.set(project.id, p);
    return true;
  }

  /** Returns the transition this outcome makes, if any. */
  private noteOutcome(p: Pipeline): TransitionKind | null {
    const key = branchKey(p);
    const before = this.outcome.get(key);
    if (RED.has(p.status)) {
      this.outcome.set(key, 'red');
      if (before !== 'red') this.redSince.set(key, p.finishedAt ?? p.createdAt);
      return 'failed';
    }
    if (p.status === 'SUCCESS') {
      this.outcome.set(key, 'green');
      this.redSince.delete(key);
      return before === 'red' ? 'fixed' : null;
    }
    return p.status === 'CANCELED' ? 'canceled' : null;
  }

  /** One live event: the wall, the red streaks and the feed. Duplicates (webhook, then poll) change nothing. */
  apply(event: PipelineEvent): void {
    const p = event.pipeline;
    if (!this.shown(p)) return;
    if (!this.projects.has(p.project.id) && this.matches(p.project.fullName)) {
      this.projects.set(p.project.id, { ...p.project, backend: p.backend });
    }
    this.placeOnWall(p);
    const key = `${p.id}|${p.status}`;
    if (event.previousStatus === p.status || this.seen.has(key)) return;
    this.seen.add(key);
    const kind = this.noteOutcome(p);
    if (!kind) return;
    this.feed = [{ key, kind, pipeline: p, at: p.finishedAt ?? new Date().toISOString() }, ...this.feed].slice(0, FEED_LENGTH);
  }

  redSinceOf(p: Pipeline): string | null {
    return RED.has(p.status) ? (this.redSince.get(branchKey(p)) ?? p.finishedAt) : null;
  }

  setPool(pool: Pool): void {
    if (this.filters.label && !pool.labels.includes(this.filters.label.toLowerCase())) return;
    this.pools.set(pool.key, pool);
    const samples = this.pressure.get(pool.key) ?? [];
    samples.push(pool.queue.depth);
    this.pressure.set(pool.key, samples.slice(-60));
  }
}
