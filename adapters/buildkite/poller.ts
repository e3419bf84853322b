import type { PollResult } from '../../src/adapter-contract.ts';
import type { EntityModel, RunnerModel } from '../../src/model.ts';
import { seg, type BuildkiteClient, type Params } from './client.ts';
import { latestMs, loose, slugOfBuild } from './fields.ts';
import { jobsOfBuild, toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerSet } from './runners.ts';
import { ACTIVE_BUILD_STATES } from './status-map.ts';

/**
 * One poll cycle (the core owns the timer). Cheap by construction, because
 * Buildkite allows 50 requests/min per user (reference §1.2, §6.11):
 * - builds that still change: `GET /organizations/{org}/builds?state[]=<active>`
 *   (one listing for the organization, or one per configured slug), jobs
 *   included, every attempt (`include_retried_jobs=true`): no per-build reads;
 * - builds finished since the last cycle: the same listing with
 *   `finished_from=<newest finished_at seen>` (blocked builds have a
 *   `finished_at` too, so they come here);
 * - the agents listing (+ agents that left it, read by id and cached).
 * Only what changed since the last cycle is returned (a fingerprint per build,
 * job and runner). While a rate-limit wait is in force no request is made: the
 * cycle returns `nextPollAfterMs` = the remaining wait. The next interval is
 * the normal one while builds run, the idle one otherwise, and never shorter
 * than what `requestsPerMinute` allows for the requests this cycle sent.
 */
const MAX_PAGES = 5;
const FIRST_LOOKBACK_MS = 10 * 60_000;
const MAX_TRACKED = 5000;

export interface PollerDeps {
  readonly backend: string;
  readonly client: BuildkiteClient;
  readonly organization: string;
  readonly pipelines: readonly string[] | undefined;
  readonly projects: ProjectDirectory;
  readonly runners: RunnerSet;
  readonly now: () => Date;
  readonly pollIntervalMs: number;
  readonly idlePollIntervalMs: number;
  readonly requestsPerMinute: number;
}

/** Remembers the last value per key, bounded (the oldest keys go first). */
class Fingerprints {
  private readonly map = new Map<string, string>();

  /** True when `value` differs from what `key` had (and records it). */
  changed(key: string, value: string): boolean {
    if (this.map.get(key) === value) return false;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > MAX_TRACKED) this.map.delete(this.map.keys().next().value!);
    return true;
  }
}

function runnerPrint(r: RunnerModel): string {
  return [r.state, r.paused, r.currentJobNativeId ?? '', r.labels.join(','), r.name, r.version ?? ''].join('|');
}

export class Poller {
  private readonly builds = new Fingerprints();
  private readonly jobs = new Fingerprints();
  private readonly runnerPrints = new Fingerprints();
  /** The newest `finished_at` seen (ms, upstream clock); null before the first cycle. */
  private finishedWatermarkMs: number | null = null;

  constructor(private readonly deps: PollerDeps) {}

  async poll(signal?: AbortSignal): Promise<PollResult> {
    const { client } = this.deps;
    const wait = client.waitMs();
    if (wait > 0) return { entities: [], nextPollAfterMs: wait };
    const before = client.stats.requests;

    const finishedFrom = new Date((this.finishedWatermarkMs ?? this.deps.now().getTime() - FIRST_LOOKBACK_MS) - 1000);
    const [active, finished] = await Promise.all([
      this.readBuilds({ 'state[]': ACTIVE_BUILD_STATES }, signal),
      this.readBuilds({ finished_from: finishedFrom.toISOString() }, signal),
    ]);
    const entities: EntityModel[] = [];
    const seen = new Set<string>();
    for (const { build, slug } of [...active, ...finished]) {
      const b = loose(build);
      const model = toPipeline(this.deps.backend, build, { slug });
      if (seen.has(model.nativeId)) continue;
      seen.add(model.nativeId);
      const finishedMs = latestMs(b.finished_at);
      if (finishedMs > (this.finishedWatermarkMs ?? 0)) this.finishedWatermarkMs = finishedMs;
      const jobs = jobsOfBuild(this.deps.backend, build, { slug, attempts: true });
      this.deps.runners.rememberFromJobs(jobs);
      if (this.builds.changed(model.nativeId, `${model.status}|${model.native.status}|${model.revision.join('.')}`)) entities.push(model);
      for (const j of jobs) if (this.jobs.changed(j.nativeId, `${j.status}|${j.revision.join('.')}|${j.runnerNativeId ?? ''}`)) entities.push(j);
    }
    if (this.finishedWatermarkMs === null) this.finishedWatermarkMs = finishedFrom.getTime() + 1000;

    for (const r of await this.deps.runners.list(signal)) if (this.runnerPrints.changed(r.nativeId, runnerPrint(r))) entities.push(r);

    const interval = active.length > 0 ? this.deps.pollIntervalMs : this.deps.idlePollIntervalMs;
    const spent = client.stats.requests - before;
    const budgetMs = Math.ceil((spent * 60_000) / this.deps.requestsPerMinute);
    return { entities, nextPollAfterMs: Math.max(interval, budgetMs) };
  }

  /** Builds of the listing(s) in scope with `params`, jobs and every attempt included. */
  private async readBuilds(params: Params, signal?: AbortSignal): Promise<Array<{ build: unknown; slug: string }>> {
    const org = seg(this.deps.organization);
    const { pipelines, projects } = this.deps;
    const paths = pipelines === undefined
      ? [`/organizations/${org}/builds`]
      : pipelines.map((s) => `/organizations/${org}/pipelines/${seg(s)}/builds`);
    const lists = await Promise.all(paths.map((p) => this.deps.client.getPaged(p, { ...params, include_retried_jobs: true }, MAX_PAGES, signal)));
    const out: Array<{ build: unknown; slug: string }> = [];
    for (const { items } of lists) {
      for (const build of items) {
        const slug = slugOfBuild(build);
        if (slug && projects.inScope(slug)) out.push({ build, slug });
      }
    }
    return out;
  }
}
