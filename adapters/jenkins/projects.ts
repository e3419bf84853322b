import type { EntityModel, ProjectModel } from '../../src/model.ts';
import type { JenkinsClient } from './client.ts';
import { isIncluded, mayContainIncluded } from './config.ts';
import { int, loose, nonEmpty, records, str, type Loose } from './fields.ts';
import { decodeBranchName, isFullName } from './native-ids.ts';
import { isFolderClass, isMultibranchClass, toProject } from './normalize.ts';
import { projectsTree, scanTree } from './queries.ts';

/** One buildable job found by a scan (folders are walked, not listed). */
export interface JobEntry {
  readonly fullName: string;
  readonly cls: string | null;
  readonly parentClass: string | null;
  /** Decoded branch name for a multibranch child. */
  readonly branch: string | null;
  readonly lastBuild: { readonly number: number; readonly building: boolean } | null;
  readonly raw: Loose;
}

/**
 * Walks a nested `jobs[...]` answer: folders, multibranch projects and
 * organization folders are containers; everything else is a job (a Project).
 * Jobs outside the configured roots are dropped.
 */
export function flattenJobs(answer: unknown, roots: readonly string[] | undefined): JobEntry[] {
  const out: JobEntry[] = [];
  const walk = (container: Loose, parentClass: string | null, prefix: string) => {
    for (const j of records(container.jobs)) {
      const name = nonEmpty(j.name);
      const fullName = nonEmpty(j.fullName) ?? (name ? (prefix ? `${prefix}/${name}` : name) : null);
      if (!fullName || !isFullName(fullName)) continue;
      const cls = str(j._class);
      if (isFolderClass(cls) || (j.jobs !== undefined && !j.lastBuild && Array.isArray(j.jobs))) {
        if (mayContainIncluded(roots, fullName)) walk(j, cls, fullName);
        continue;
      }
      if (!isIncluded(roots, fullName)) continue;
      const lb = j.lastBuild === null || j.lastBuild === undefined ? null : loose(j.lastBuild);
      const number = lb ? int(lb.number) : null;
      out.push({
        fullName,
        cls,
        parentClass,
        branch: isMultibranchClass(parentClass) ? decodeBranchName(name ?? fullName.slice(fullName.lastIndexOf('/') + 1)) : null,
        lastBuild: number !== null ? { number, building: lb?.building === true } : null,
        raw: { ...j, fullName },
      });
    }
  };
  walk(loose(answer), null, '');
  return out;
}

/**
 * The jobs of this backend. The poller's scan refreshes the cache for free;
 * readers between polls use it for `ttlMs`.
 */
export class JobDirectory {
  private cache: { atMs: number; jobs: Map<string, JobEntry> } | null = null;

  constructor(
    private readonly client: JenkinsClient,
    private readonly backend: string,
    private readonly roots: readonly string[] | undefined,
    private readonly depth: number,
    private readonly now: () => Date,
    private readonly ttlMs = 60_000,
  ) {}

  /** The poller's cheap root query (one request, every job's last build number and building flag). */
  async scan(): Promise<JobEntry[]> {
    const answer = await this.client.getJson('/api/json', scanTree(this.depth));
    const jobs = flattenJobs(answer, this.roots);
    this.remember(jobs);
    return jobs;
  }

  covers(fullName: string): boolean {
    return isIncluded(this.roots, fullName);
  }

  /** Whether an entity lies under the configured roots (runners: the agents of this Jenkins). */
  owns(entity: EntityModel): boolean {
    if (entity.type === 'Runner') return true;
    return this.covers(entity.type === 'Project' ? entity.nativeId : entity.projectNativeId);
  }

  /** The cached entry (or a fresh listing when the cache is stale). */
  async get(fullName: string): Promise<JobEntry | null> {
    return (await this.entries()).get(fullName) ?? null;
  }

  /** Known without a request (branch name, class), or null. */
  peek(fullName: string): JobEntry | null {
    return this.cache?.jobs.get(fullName) ?? null;
  }

  async entries(): Promise<Map<string, JobEntry>> {
    const nowMs = this.now().getTime();
    if (this.cache && nowMs - this.cache.atMs < this.ttlMs) return this.cache.jobs;
    const answer = await this.client.getJson('/api/json', projectsTree(this.depth));
    return this.remember(flattenJobs(answer, this.roots));
  }

  async list(): Promise<ProjectModel[]> {
    const jobs = await this.entries();
    return [...jobs.values()].map((j) => this.toProject(j)).sort((a, b) => a.nativeId.localeCompare(b.nativeId));
  }

  toProject(j: JobEntry): ProjectModel {
    return toProject(this.backend, j.raw, j.parentClass);
  }

  branchOf(fullName: string): string | null {
    const known = this.peek(fullName);
    if (known) return known.branch;
    return null;
  }

  private remember(jobs: readonly JobEntry[]): Map<string, JobEntry> {
    const map = new Map(jobs.map((j) => [j.fullName, j]));
    this.cache = { atMs: this.now().getTime(), jobs: map };
    return map;
  }
}

export { decodeBranchName };
