import type { PollResult } from '../../src/adapter-contract.ts';
import type { EntityModel, JobModel, PipelineModel } from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import { seg, type GitlabClient } from './client.ts';
import { isNotFound, isRateLimited } from './errors.ts';
import { loadJobAttemptsOfPipelines, type LoaderDeps } from './loaders.ts';
import { toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerSet } from './runners.ts';

/**
 * One poll cycle (the core owns the timer). Cheap by construction:
 * - per project one `GET /projects/:id/pipelines?updated_after=<watermark>`
 *   (first cycle: the newest 20): an idle project answers a tiny page;
 * - a changed pipeline that just succeeded is read once in full
 *   (`detailed_status` tells "passed with warnings" → UNSTABLE);
 * - jobs of changed and still-active pipelines, batched per project
 *   (project-level keyset listing, see loaders.ts), every attempt: a job that
 *   failed and was retried between two cycles still reaches the history;
 * - the runner list(s) of the configured scope (details cached).
 * While a rate-limit wait is in force no request is made: the cycle returns
 * `nextPollAfterMs` = the remaining wait.
 */
const FIRST_PAGE = 20;
const MAX_TRACKED = 2000;

interface Seen {
  readonly state: string;
  readonly terminal: boolean;
  readonly jobs: string | null;
}

/** A changed pipeline as read, and its REST object (named once its jobs are read). */
interface Observed {
  readonly model: PipelineModel;
  readonly raw: unknown;
}

function fingerprint(jobs: readonly JobModel[]): string {
  return jobs.map((j) => `${j.nativeId}@${j.revision.join('.')}:${j.status}`).join('|');
}

export class Poller {
  private readonly seen = new Map<string, Seen>();
  /** Per project: the newest `updated_at` seen (ISO). */
  private readonly watermark = new Map<string, string>();

  constructor(
    private readonly deps: {
      readonly loader: LoaderDeps;
      readonly client: GitlabClient;
      readonly projects: ProjectDirectory;
      readonly runners: RunnerSet;
      readonly now: () => Date;
      readonly log?: { warn(o: object, m?: string): void };
    },
  ) {}

  async poll(signal?: AbortSignal): Promise<PollResult> {
    const wait = this.deps.client.waitMs();
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

    const changed: Observed[] = [];
    let projectIds: string[] = [];
    await attempt(async () => {
      projectIds = await this.deps.projects.ids(signal);
    });
    await Promise.all(projectIds.map((id) => attempt(() => this.pollProject(id, changed, signal))));

    // Jobs of pipelines that changed or are still running, batched per project.
    const toRead = new Set(changed.map((c) => c.model.nativeId));
    for (const [id, s] of this.seen) if (!s.terminal) toRead.add(id);
    if (toRead.size > 0) {
      await attempt(async () => {
        const ids = [...toRead];
        const results = await loadJobAttemptsOfPipelines({ ...this.deps.loader, signal }, ids);
        ids.forEach((id, i) => {
          const jobs = results[i];
          const seen = this.seen.get(id);
          if (!jobs || jobs instanceof Error || !seen) return;
          const fp = fingerprint(jobs);
          if (fp !== seen.jobs) entities.push(...jobs);
          this.seen.set(id, { ...seen, jobs: fp });
        });
      });
    }

    // Pipelines after their jobs: the jobs taught their commit titles (REST pipelines lack them).
    for (const c of changed) entities.push(this.named(c));

    await attempt(async () => {
      entities.push(...(await this.deps.runners.list({ signal })));
    });

    this.prune();
    if (attempts > 0 && errors.length === attempts) throw errors[0];
    // A cycle stopped by shutdown fails every step on purpose: nothing to warn about.
    if (!signal?.aborted) for (const e of errors) this.deps.log?.warn({ err: e }, 'GitLab poll step failed');
    const after = this.deps.client.waitMs() || retryAfterOf(errors);
    return after > 0 ? { entities, nextPollAfterMs: after } : { entities };
  }

  /** The pipeline with its display name from the commit title, now that its jobs were read. */
  private named(c: Observed): PipelineModel {
    const title = this.deps.loader.titles.of(c.model.commitSha);
    return title === null ? c.model : toPipeline(this.deps.loader.backend, c.raw, c.model.projectNativeId, title);
  }

  private async pollProject(projectId: string, out: Observed[], signal?: AbortSignal): Promise<void> {
    const mark = this.watermark.get(projectId);
    let data: unknown;
    try {
      ({ data } = await this.deps.client.get<unknown>(`/projects/${seg(projectId)}/pipelines`, {
        order_by: 'id',
        sort: 'desc',
        per_page: mark ? 100 : FIRST_PAGE,
        // One second of overlap: GitLab's comparison and second-granular clocks must not lose an update.
        updated_after: mark ? new Date(Date.parse(mark) - 1000).toISOString() : undefined,
      }, signal));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    let newest = mark ?? null;
    for (const listed of Array.isArray(data) ? data : []) {
      let p: PipelineModel;
      let raw: unknown = listed;
      try {
        p = toPipeline(this.deps.loader.backend, raw, projectId);
      } catch {
        continue;
      }
      if (p.updatedAt && (!newest || p.updatedAt > newest)) newest = p.updatedAt;
      const state = `${p.native.status}|${p.updatedAt}`;
      const before = this.seen.get(p.nativeId);
      if (before?.state === state) continue;
      if (p.native.status === 'success') ({ model: p, raw } = await this.detail(p, raw, signal));
      this.seen.delete(p.nativeId);
      this.seen.set(p.nativeId, { state, terminal: isTerminal(p.status), jobs: before?.jobs ?? null });
      out.push({ model: p, raw });
    }
    if (newest) this.watermark.set(projectId, newest);
  }

  /** The single-pipeline object: it has `detailed_status` (UNSTABLE vs SUCCESS). */
  private async detail(p: PipelineModel, listed: unknown, signal?: AbortSignal): Promise<Observed> {
    const [, pipelineId] = p.nativeId.split('/pipelines/');
    try {
      const res = await this.deps.client.get<unknown>(`/projects/${seg(p.projectNativeId)}/pipelines/${seg(pipelineId ?? '')}`, {}, signal);
      return { model: toPipeline(this.deps.loader.backend, res.data, p.projectNativeId), raw: res.data };
    } catch (error) {
      if (isNotFound(error) || isRateLimited(error)) return { model: p, raw: listed };
      throw error;
    }
  }

  private prune(): void {
    while (this.seen.size > MAX_TRACKED) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
  }
}

function retryAfterOf(errors: readonly unknown[]): number {
  let ms = 0;
  for (const e of errors) if (isRateLimited(e)) ms = Math.max(ms, e.details.retryAfterMs ?? 60_000);
  return ms;
}
