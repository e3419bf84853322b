import type { JobModel, PipelineModel, StepModel } from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { asRecord, int, loose, records, str, type Loose } from './fields.ts';
import { jobPath } from './native-ids.ts';
import { agentRemovedBy, isWorkflowClass, toBuildJob, toPipeline, toStageJob, toStep } from './normalize.ts';
import { BUILD_FIELDS, BUILD_TREE } from './queries.ts';
import { branch, tree } from './tree.ts';

/**
 * Reads builds' full state in as few requests as the APIs allow (issue 11 item 1):
 *
 * - core fields: one `job/<path>/api/json?tree=builds[...]{0,K}` per job for
 *   several builds (or `<n>/api/json` for one, or none when the caller holds them);
 * - stages WITH their steps: the stage view's `wfapi/runs?since=<oldest>&fullStages=true`
 *   answers the job's newest runs (at most 10 by default: the plugin's
 *   `JobExt.maxRunsPerJob`) in one request; it has no offset, so an older run
 *   costs one `<n>/wfapi/describe?fullStages=true`. `fullStages` only stops the
 *   plugin hiding the flow nodes it computed anyway, so steps never cost a
 *   request of their own. (A stage view too old to know `fullStages` answers
 *   without `stageFlowNodes`; only then are steps read per stage, and cached
 *   once the stage finished.)
 *
 * So the stages of N builds of one job cost 1 + 1 + max(0, N − 10) requests cold.
 */
export interface BuildState {
  readonly pipeline: PipelineModel;
  readonly jobs: readonly JobModel[];
  readonly raw: Loose;
}

/** Which builds need the stage view: every Pipeline build (jobs asked for), or only building ones (an input pause). */
export type StageNeed = 'all' | 'building';

const MAX_CACHED_STAGES = 5000;
/** Jenkins' `builds` holds the newest 100 (Job.getNewBuilds). */
const MAX_BUILDS_RANGE = 100;
const FULL = { fullStages: 'true' } as const;

export class BuildReader {
  private readonly finishedSteps = new Map<string, readonly StepModel[]>();
  /** Newest build number seen per job (lists, scans), to size a `builds{0,K}` range. */
  private readonly newest = new Map<string, number>();

  constructor(
    private readonly client: JenkinsClient,
    private readonly backend: string,
  ) {}

  noteNewest(fullName: string, number: number | null | undefined): void {
    if (typeof number !== 'number' || !Number.isSafeInteger(number)) return;
    if ((this.newest.get(fullName) ?? 0) < number) this.newest.set(fullName, number);
    while (this.newest.size > MAX_CACHED_STAGES) {
      const oldest = this.newest.keys().next();
      if (oldest.done) break;
      this.newest.delete(oldest.value);
    }
  }

  /** The raw build, or null when Jenkins answers 404. */
  fetchBuild(fullName: string, number: number, signal?: AbortSignal): Promise<Loose | null> {
    return nullOn404(this.client.getJson(`${jobPath(fullName)}/${number}/api/json`, BUILD_TREE, undefined, signal)).then((b) => (b === null ? null : loose(b)));
  }

  /**
   * Several builds of one job by number: one `builds{0,K}` read (a single build:
   * its own `api/json`), then the stage view in batches. Missing builds are absent
   * from the map (404, or deleted).
   */
  async states(fullName: string, numbers: readonly number[], branchName: string | null, need: StageNeed, signal?: AbortSignal): Promise<Map<number, BuildState>> {
    const wanted = [...new Set(numbers)].sort((a, b) => b - a);
    const raws = new Map<number, Loose>();
    if (wanted.length === 1) {
      const raw = await this.fetchBuild(fullName, wanted[0]!);
      if (raw && int(raw.number) === wanted[0]) raws.set(wanted[0]!, raw);
    } else if (wanted.length > 1) {
      const newest = Math.max(this.newest.get(fullName) ?? 0, wanted[0]!);
      // Build k sits at index ≤ newest − k (deleted builds only move it up).
      const end = newest - wanted[wanted.length - 1]! + 1;
      // Past the newest 100 (`builds`), `allBuilds{M,N}` reaches older ones (the backfill's) in one read too.
      const from = end > MAX_BUILDS_RANGE ? Math.max(0, newest - wanted[0]!) : 0;
      const field = end > MAX_BUILDS_RANGE ? 'allBuilds' : 'builds';
      const range = { from, to: Math.min(end, from + MAX_BUILDS_RANGE) };
      const answer = await nullOn404(this.client.getJson(`${jobPath(fullName)}/api/json`, tree('_class', branch(field, BUILD_FIELDS, range)), undefined, signal));
      if (answer === null) return new Map();
      const job = loose(answer);
      const want = new Set(wanted);
      for (const b of records(job[field])) {
        const n = int(b.number);
        this.noteNewest(fullName, n);
        if (n !== null && want.has(n)) raws.set(n, withRunClass(b, job._class));
      }
      // Newer builds than we knew of pushed some out of the range: read those alone.
      await Promise.all(wanted.filter((n) => !raws.has(n)).map(async (n) => {
        const raw = await this.fetchBuild(fullName, n, signal);
        if (raw && int(raw.number) === n) raws.set(n, raw);
      }));
    }
    const ordered = wanted.map((n) => raws.get(n)).filter((r): r is Loose => r !== undefined);
    const states = await this.statesFromRaw(fullName, ordered, branchName, need, signal);
    return new Map(states.map((s) => [s.pipeline.number!, s]));
  }

  /** States of builds whose core fields are in hand: the stage view in as few reads as it allows. */
  async statesFromRaw(fullName: string, raws: readonly Loose[], branchName: string | null, need: StageNeed, signal?: AbortSignal): Promise<BuildState[]> {
    // Freestyle builds have no stage view; a build of unknown class may (it is tried, and a 404 says no).
    const mayHaveStages = (raw: Loose) => isWorkflowClass(raw._class) || typeof raw._class !== 'string';
    const wantsStages = (raw: Loose) => mayHaveStages(raw) && (need === 'all' || raw.building === true);
    const runs = await this.stageViews(fullName, raws.filter(wantsStages), signal);
    return Promise.all(raws.map((raw) => this.toState(fullName, raw, branchName, runs.get(int(raw.number) ?? -1), signal)));
  }

  /** wfapi runs by build number: `undefined` not read, `null` no stage view (404). */
  private async stageViews(fullName: string, raws: readonly Loose[], signal?: AbortSignal): Promise<Map<number, Loose | null>> {
    const out = new Map<number, Loose | null>();
    const numbers = raws.map((r) => int(r.number)).filter((n): n is number => n !== null).sort((a, b) => b - a);
    if (numbers.length === 0) return out;
    if (numbers.length > 1) {
      const oldest = raws.find((r) => int(r.number) === numbers[numbers.length - 1]);
      // `since` stops at the run with that name (its display name), inclusive.
      const since = str(oldest?.displayName) ?? `#${numbers[numbers.length - 1]}`;
      const answer = await nullOn404(this.client.getJson(`${jobPath(fullName)}/wfapi/runs`, undefined, { since, ...FULL }, signal));
      if (answer === null) {
        // No stage view on this Jenkins (or not a Pipeline job): nothing to read per build either.
        for (const n of numbers) out.set(n, null);
        return out;
      }
      for (const run of records(answer)) {
        const n = Number(str(run.id));
        if (Number.isSafeInteger(n) && numbers.includes(n)) out.set(n, run);
      }
    }
    // Runs older than the newest page (or a single build): one describe each, steps included.
    await Promise.all(numbers.filter((n) => !out.has(n)).map(async (n) => {
      const run = await nullOn404(this.client.getJson(`${jobPath(fullName)}/${n}/wfapi/describe`, undefined, FULL, signal));
      out.set(n, run === null ? null : loose(run));
    }));
    return out;
  }

  private async toState(fullName: string, raw: Loose, branchName: string | null, run: Loose | null | undefined, signal?: AbortSignal): Promise<BuildState> {
    const workflow = isWorkflowClass(raw._class);
    if (run === undefined || run === null) {
      if (!workflow || run === null) {
        // Freestyle, or no stage view on this Jenkins: the build is its single Job, and there is nothing more to know.
        const pipeline = toPipeline(this.backend, fullName, raw, { branch: branchName, stageViewRead: true });
        return { pipeline, jobs: [toBuildJob(this.backend, fullName, raw, { branch: branchName })], raw };
      }
      // A Pipeline build whose stage view was not needed (a finished build read for its Pipeline only).
      return { pipeline: toPipeline(this.backend, fullName, raw, { branch: branchName }), jobs: [], raw };
    }
    const number = Number(raw.number);
    const pipeline = toPipeline(this.backend, fullName, raw, { branch: branchName, wfapiStatus: run.status, stageViewRead: true, stageCount: records(run.stages).length });
    const ctx = { fullName, number, buildUrl: str(raw.url), branch: pipeline.branch, agentRemovedBy: agentRemovedBy(raw) };
    const jobs = await Promise.all(
      records(run.stages).map(async (stage) => {
        const steps = await this.stepsOf(fullName, number, stage, signal);
        try {
          return toStageJob(this.backend, ctx, stage, steps);
        } catch {
          return null;
        }
      }),
    );
    return { pipeline, jobs: jobs.filter((j): j is JobModel => j !== null), raw };
  }

  private async stepsOf(fullName: string, number: number, stage: Loose, signal?: AbortSignal): Promise<readonly StepModel[]> {
    if (Array.isArray(stage.stageFlowNodes)) return records(stage.stageFlowNodes).map((n, i) => toStep(n, i));
    const id = str(stage.id);
    if (!id) return [];
    const key = `${fullName}#${number}/${id}`;
    const cached = this.finishedSteps.get(key);
    if (cached) return cached;
    const answer = await nullOn404(this.client.getJson(`${jobPath(fullName)}/${number}/execution/node/${encodeURIComponent(id)}/wfapi/describe`, undefined, undefined, signal));
    const steps = records(asRecord(answer)?.stageFlowNodes).map((n, i) => toStep(n, i));
    if (isTerminalStage(stage.status)) {
      this.finishedSteps.set(key, steps);
      while (this.finishedSteps.size > MAX_CACHED_STAGES) {
        const oldest = this.finishedSteps.keys().next();
        if (oldest.done) break;
        this.finishedSteps.delete(oldest.value);
      }
    }
    return steps;
  }
}

/** Builds nested in a job answer may omit `_class`; a Pipeline job's builds are Pipeline runs. */
export function withRunClass(build: Loose, jobClass: unknown): Loose {
  if (build._class !== undefined) return build;
  return typeof jobClass === 'string' && /Workflow/.test(jobClass) ? { ...build, _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun' } : build;
}

function isTerminalStage(status: unknown): boolean {
  return typeof status === 'string' && isTerminal(toStep({ status }, 0).status);
}
