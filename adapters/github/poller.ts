import type { PollResult } from '../../src/adapter-contract.ts';
import type { EntityModel, JobModel, PipelineModel } from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import { isUpstreamRateLimited, type GithubClient } from './client.ts';
import { isNotFound } from './errors.ts';
import { asRecord } from './fields.ts';
import { parsePipelineId, parseProjectId } from './native-ids.ts';
import { fetchJobsOfRun } from './loaders.ts';
import { toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerDirectory } from './runners.ts';
import type { RunPayload } from './upstream-types.ts';

/**
 * One poll cycle (the core owns the timer). Cheap by construction:
 * - per project one conditional `GET .../actions/runs?per_page=20`; an
 *   unchanged repository answers 304 and costs no rate-limit quota;
 * - jobs only for runs that changed since the last poll or are still active
 *   (also conditional);
 * - active runs that fell off the first page are fetched directly, so a busy
 *   repository cannot hide a run that is still going;
 * - runner lists per source, conditional; the core drops unchanged runners.
 * State kept: the last seen attempt/status/conclusion/`updated_at` per recent run (bounded).
 */
const RUNS_PER_POLL = 20;
const MAX_TRACKED_RUNS = 2000;

interface SeenRun {
  /** attempt, status, conclusion and updated_at: updated_at alone has one-second granularity. */
  readonly state: string;
  readonly terminal: boolean;
  /** Ids+revisions of the jobs last emitted, so unchanged job lists emit nothing. */
  readonly jobsFingerprint: string | null;
}

function fingerprint(jobs: readonly JobModel[]): string {
  return jobs.map((j) => `${j.nativeId}@${j.revision.join('.')}`).join('|');
}

export class Poller {
  private readonly seen = new Map<string, SeenRun>();

  constructor(
    private readonly deps: {
      readonly backend: string;
      readonly client: GithubClient;
      readonly projects: ProjectDirectory;
      readonly runners: RunnerDirectory;
      readonly now: () => Date;
      readonly log?: { warn(o: object, m?: string): void };
    },
  ) {}

  async poll(signal?: AbortSignal): Promise<PollResult> {
    const wait = this.rateLimitWaitMs();
    if (wait > 0) return { entities: [], nextPollAfterMs: wait };

    const entities: EntityModel[] = [];
    const errors: unknown[] = [];
    let attempts = 0;
    const attempt = async (task: () => Promise<void>) => {
      attempts++;
      try {
        await task();
      } catch (error) {
        errors.push(error);
      }
    };

    const projectIds = await this.deps.projects.ids(signal);
    const listed = new Set<string>();
    await Promise.all(projectIds.map((id) => attempt(() => this.pollProject(id, entities, listed, signal))));

    // Runs we saw active that were not on any first page this time.
    const stragglers = [...this.seen].filter(([id, s]) => !s.terminal && !listed.has(id)).map(([id]) => id);
    await Promise.all(stragglers.map((id) => attempt(() => this.pollRun(id, entities, signal))));

    // One attempt per runner source. Always report: the core drops unchanged runners, and an
    // observation it once found older than a job-derived state must be able to win next time.
    for (const listing of await this.deps.runners.listAll(signal)) {
      attempts++;
      if (listing.status === 'fulfilled') entities.push(...listing.value.runners);
      else errors.push(listing.reason);
    }

    signal?.throwIfAborted();
    this.prune();
    if (attempts > 0 && errors.length === attempts) throw errors[0];
    for (const e of errors) this.deps.log?.warn({ err: e }, 'GitHub poll step failed');
    const after = this.rateLimitWaitMs() || (errors.some(isUpstreamRateLimited) ? retryAfterOf(errors) : 0);
    return after > 0 ? { entities, nextPollAfterMs: after } : { entities };
  }

  private async pollProject(projectId: string, out: EntityModel[], listed: Set<string>, signal?: AbortSignal): Promise<void> {
    const ref = parseProjectId(projectId);
    if (!ref) return;
    let data: unknown;
    try {
      ({ data } = await this.deps.client.get<unknown>('GET /repos/{owner}/{repo}/actions/runs', {
        owner: ref.owner, repo: ref.repo, per_page: RUNS_PER_POLL,
      }, signal));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const runs = asRecord(data)?.workflow_runs;
    const pipelines: PipelineModel[] = [];
    for (const run of Array.isArray(runs) ? (runs as RunPayload[]) : []) {
      try {
        pipelines.push(toPipeline(this.deps.backend, run, projectId));
      } catch {
        // Unaddressable run: skip.
      }
    }
    await Promise.all(pipelines.map(async (p) => {
      listed.add(p.nativeId);
      await this.emitIfChanged(p, out, signal);
    }));
  }

  private async pollRun(pipelineId: string, out: EntityModel[], signal?: AbortSignal): Promise<void> {
    const ref = parsePipelineId(pipelineId);
    if (!ref) return;
    try {
      const res = await this.deps.client.get<RunPayload>('GET /repos/{owner}/{repo}/actions/runs/{run_id}', {
        owner: ref.owner, repo: ref.repo, run_id: ref.runId,
      }, signal);
      await this.emitIfChanged(toPipeline(this.deps.backend, res.data, `${ref.owner}/${ref.repo}`), out, signal);
    } catch (error) {
      if (isNotFound(error)) {
        this.seen.delete(pipelineId); // deleted run: stop tracking it
        return;
      }
      throw error;
    }
  }

  /** Emits the run if new/changed, and its jobs if it changed or is active. */
  private async emitIfChanged(p: PipelineModel, out: EntityModel[], signal?: AbortSignal): Promise<void> {
    const before = this.seen.get(p.nativeId);
    const terminal = isTerminal(p.status);
    // A run can start and finish within one second of updated_at: compare the status too.
    const state = `${p.attempt}|${p.native.status}|${p.native.conclusion}|${p.updatedAt}`;
    const changed = !before || before.state !== state;
    if (changed) out.push(p);
    let jobsFingerprint = before?.jobsFingerprint ?? null;
    if (changed || !terminal) {
      // Steps move without touching the run's updated_at, so active runs are
      // re-read (a 304 when nothing moved); unchanged job lists emit nothing.
      const { jobs } = await fetchJobsOfRun(this.deps.client, this.deps.backend, p.nativeId, signal);
      const fp = fingerprint(jobs);
      if (fp !== jobsFingerprint) out.push(...jobs);
      jobsFingerprint = fp;
    }
    // Remember only after the jobs were read, so a failure retries next poll.
    this.seen.delete(p.nativeId);
    this.seen.set(p.nativeId, { state, terminal, jobsFingerprint });
  }

  /**
   * Reads this run directly at every poll until it is finished, even off the first page: a
   * re-run sends no webhook, and a busy repository's newer runs would hide the new attempt.
   */
  follow(pipelineId: string): void {
    const before = this.seen.get(pipelineId);
    this.seen.delete(pipelineId);
    this.seen.set(pipelineId, { state: '', terminal: false, jobsFingerprint: before?.jobsFingerprint ?? null });
  }

  private prune(): void {
    while (this.seen.size > MAX_TRACKED_RUNS) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
  }

  private rateLimitWaitMs(): number {
    const { remaining, resetAt } = this.deps.client.rateLimit;
    if (remaining !== 0 || !resetAt) return 0;
    return Math.max(0, resetAt.getTime() - this.deps.now().getTime());
  }
}

function retryAfterOf(errors: readonly unknown[]): number {
  let ms = 0;
  for (const e of errors) if (isUpstreamRateLimited(e)) ms = Math.max(ms, e.details.retryAfterMs ?? 60_000);
  return ms;
}
