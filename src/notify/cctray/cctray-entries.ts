import { matchProjectPattern } from '../../auth/scope.ts';
import type { CiStatus } from '../../model.ts';
import type { CctrayFilter } from './cctray-query.ts';
import { CCTRAY_ACTIVITY, CCTRAY_BUILD_STATUS, type CctrayActivity, type CctrayBuildStatus } from './cctray-status.ts';

/** The fields of a pipeline the feed reads; a live PipelineModel is one, so is a history row. */
export interface FeedRun {
  readonly backend: string;
  readonly nativeId: string;
  readonly projectNativeId: string;
  readonly number: number | null;
  readonly name: string | null;
  readonly status: CiStatus;
  readonly branch: string | null;
  readonly url: string | null;
  readonly attempt: number;
  /** ISO-8601. */
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** A Jenkins queue item that became a build: the build is listed, not the stand-in. */
  readonly aliasOf?: string;
}

export interface FeedProject {
  readonly fullName: string;
  readonly url: string | null;
  readonly defaultBranch: string | null;
}

/** One `<Project>` of cc.xml (cctray.org/v1). */
export interface CctrayEntry {
  readonly name: string;
  readonly activity: CctrayActivity;
  readonly lastBuildStatus: CctrayBuildStatus;
  /** Absent before the first finished pipeline. */
  readonly lastBuildLabel: string | null;
  /** ISO-8601. */
  readonly lastBuildTime: string;
  readonly webUrl: string;
}

export interface EntryInput {
  readonly runs: Iterable<FeedRun>;
  /** The project of a run, or null when unknown (its runs are left out: no name to show, no scope to check). */
  readonly projectOf: (backend: string, projectNativeId: string) => FeedProject | null;
  /** The caller's scope, on a project's names. */
  readonly allowed: (backend: string, projectNativeId: string, fullName: string) => boolean;
  readonly filter: CctrayFilter;
}

interface Group {
  readonly backend: string;
  readonly project: FeedProject;
  readonly projectNativeId: string;
  readonly branch: string;
  readonly pipeline: string | null;
  latest: FeedRun;
  finished: FeedRun | null;
}

/** Newer: created later; in the same second (timestamps have seconds), the higher number, then the later attempt. */
function newer(a: FeedRun, b: FeedRun): boolean {
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (byTime !== 0) return byTime > 0;
  if (a.number !== null && b.number !== null && a.number !== b.number) return a.number > b.number;
  return a.attempt > b.attempt;
}

/** `42`, or the run's short id where the backend numbers nothing. */
function labelOf(run: FeedRun): string {
  if (run.number !== null) return run.attempt > 1 ? `${run.number}.${run.attempt}` : String(run.number);
  const tail = run.nativeId.split('/').pop() ?? run.nativeId;
  return tail.slice(0, 12);
}

/**
 * The branch a run is listed under, or null when the filter leaves it out. A project without a
 * default branch (a plain Jenkins job: the job is the branch) is one entry whatever its builds
 * record; '' = no branch to show.
 */
function listedBranch(filter: CctrayFilter, project: FeedProject, branch: string | null): string | null {
  if (filter.branches === 'all') return branch ?? '';
  if (filter.branches === 'default') return project.defaultBranch === null ? '' : branch === project.defaultBranch ? branch : null;
  return branch !== null && filter.branches.includes(branch) ? branch : null;
}

function projectWanted(filter: CctrayFilter, projectNativeId: string, fullName: string): boolean {
  return filter.projects === null || filter.projects.some((p) => matchProjectPattern(p, fullName) || matchProjectPattern(p, projectNativeId));
}

/**
 * The feed's entries: one per (project x pipeline name) on the chosen branches. `activity` is
 * what the newest pipeline does; `lastBuildStatus`, label and time come from the newest
 * FINISHED one, so a build that starts does not wipe the verdict before it (the failure mode
 * build monitors report about other feeds). Sorted by name, so equal state gives equal bytes.
 */
export function buildCctrayEntries(input: EntryInput): CctrayEntry[] {
  const { filter } = input;
  const groups = new Map<string, Group>();
  /** Pipeline names per project, whatever the filters: an entry's name must not change with the query. */
  const namesPerProject = new Map<string, Set<string | null>>();
  for (const run of input.runs) {
    if (run.aliasOf !== undefined) continue;
    if (filter.backends !== null && !filter.backends.includes(run.backend)) continue;
    const project = input.projectOf(run.backend, run.projectNativeId);
    if (!project || !input.allowed(run.backend, run.projectNativeId, project.fullName)) continue;
    const projectKey = `${run.backend}\u0000${run.projectNativeId}`;
    let names = namesPerProject.get(projectKey);
    if (!names) namesPerProject.set(projectKey, (names = new Set()));
    names.add(run.name);
    const branch = listedBranch(filter, project, run.branch);
    if (branch === null || !projectWanted(filter, run.projectNativeId, project.fullName)) continue;
    if (filter.pipelines !== null && (run.name === null || !filter.pipelines.includes(run.name))) continue;
    const key = `${projectKey}\u0000${branch}\u0000${run.name ?? ''}`;
    const finished = CCTRAY_BUILD_STATUS[run.status] !== null ? run : null;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { backend: run.backend, project, projectNativeId: run.projectNativeId, branch, pipeline: run.name, latest: run, finished });
      continue;
    }
    if (newer(run, group.latest)) group.latest = run;
    if (finished && (!group.finished || newer(finished, group.finished))) group.finished = finished;
  }
  const entries: CctrayEntry[] = [];
  for (const g of groups.values()) {
    const several = (namesPerProject.get(`${g.backend}\u0000${g.projectNativeId}`)?.size ?? 0) > 1;
    const name = `${g.backend}/${g.project.fullName}${several ? ` :: ${g.pipeline ?? '(unnamed)'}` : ''}${filter.branches === 'default' || g.branch === '' ? '' : ` @ ${g.branch}`}`;
    const verdict = g.finished ? CCTRAY_BUILD_STATUS[g.finished.status]! : 'Unknown';
    if (filter.statuses !== null && !filter.statuses.includes(verdict)) continue;
    entries.push({
      name,
      activity: CCTRAY_ACTIVITY[g.latest.status],
      lastBuildStatus: verdict,
      lastBuildLabel: g.finished ? labelOf(g.finished) : null,
      lastBuildTime: new Date(g.finished?.finishedAt ?? g.finished?.createdAt ?? g.latest.createdAt).toISOString(),
      // What a click should show: the run in progress while one is, else the one judged.
      webUrl: g.latest.url ?? g.finished?.url ?? g.project.url ?? '',
    });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
