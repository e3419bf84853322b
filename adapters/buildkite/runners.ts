import { perDistinctKey } from '../../src/adapter-kit/per-distinct-key.ts';
import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { JobModel, RunnerModel } from '../../src/model.ts';
import { seg, type BuildkiteClient } from './client.ts';
import { parseRunnerId } from './native-ids.ts';
import { toRunner } from './normalize.ts';

/** A listing serves lookups this long (one listing per burst of reads, never one per id). */
const LISTING_TTL_MS = 5_000;
/** An agent read by id (not in the listing: lost, disconnected, stopped) is read again after this. */
const DETAIL_TTL_MS = 5 * 60_000;
/** An id that is neither listed nor found is not asked for again within this (a new agent is listed anyway). */
const MISS_TTL_MS = 60_000;
/** Agents outside the listing that jobs named or the listing lost, kept to report their state. */
const MAX_REMEMBERED = 200;

/**
 * Buildkite agents as runners. `GET /organizations/{org}/agents` lists only
 * connected and stopping agents (reference §6.5), so an agent that a job
 * named, or that left the listing (lost, disconnected, stopped), is read by id
 * and kept in `listRunners` for a while: that is how an OFFLINE runner shows.
 */
export class RunnerSet {
  private listed: { atMs: number; runners: Map<string, RunnerModel> } | null = null;
  private readonly details = new Map<string, { atMs: number; runner: RunnerModel | null }>();
  /** Ids known from jobs or earlier listings, newest last. */
  private readonly remembered = new Set<string>();

  constructor(
    private readonly deps: {
      readonly backend: string;
      readonly client: BuildkiteClient;
      readonly organization: string;
      readonly now: () => Date;
    },
  ) {}

  /** Remembers the agents jobs ran on, so they stay visible once they leave the listing. */
  rememberFromJobs(jobs: readonly JobModel[]): void {
    for (const j of jobs) if (j.runnerNativeId) this.remember(j.runnerNativeId);
  }

  /** The listing plus every remembered agent it no longer holds (read by id, cached). */
  async list(signal?: AbortSignal): Promise<RunnerModel[]> {
    const listed = await this.listing(signal, true);
    const missing = [...this.remembered].filter((id) => !listed.has(id));
    const extra = await Promise.all(missing.map((id) => this.detail(id, signal)));
    return [...listed.values(), ...extra.filter((r): r is RunnerModel => r !== null)];
  }

  byIds(ids: readonly string[], signal?: AbortSignal): Promise<Array<RunnerModel | null | Error>> {
    return perDistinctKey(ids, async (id) => {
      if (parseRunnerId(id) === null) return null;
      const listed = (await this.listing(signal, false)).get(id);
      return listed ?? this.detail(id, signal);
    });
  }

  private remember(id: string): void {
    if (parseRunnerId(id) === null) return;
    this.remembered.delete(id);
    this.remembered.add(id);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.values().next().value!);
  }

  private async listing(signal: AbortSignal | undefined, fresh: boolean): Promise<Map<string, RunnerModel>> {
    const nowMs = this.deps.now().getTime();
    if (!fresh && this.listed && nowMs - this.listed.atMs < LISTING_TTL_MS) return this.listed.runners;
    const { items } = await this.deps.client.getPaged(`/organizations/${seg(this.deps.organization)}/agents`, {}, 20, signal);
    const runners = new Map<string, RunnerModel>();
    for (const raw of items) {
      const r = tryRunner(this.deps.backend, raw, nowMs);
      if (r) runners.set(r.nativeId, r);
    }
    // An agent that left the listing went lost, disconnected or stopped: keep reporting it.
    for (const id of this.listed?.runners.keys() ?? []) if (!runners.has(id)) this.remember(id);
    for (const id of runners.keys()) this.details.delete(id);
    this.listed = { atMs: nowMs, runners };
    return runners;
  }

  private async detail(id: string, signal?: AbortSignal): Promise<RunnerModel | null> {
    const nowMs = this.deps.now().getTime();
    const cached = this.details.get(id);
    if (cached && nowMs - cached.atMs < (cached.runner ? DETAIL_TTL_MS : MISS_TTL_MS)) return cached.runner;
    const data = await nullOn404(this.deps.client.getJson(`/organizations/${seg(this.deps.organization)}/agents/${seg(id)}`, signal));
    const runner = data === null ? null : tryRunner(this.deps.backend, data, nowMs);
    this.details.set(id, { atMs: nowMs, runner });
    return runner;
  }
}

function tryRunner(backend: string, raw: unknown, nowMs: number): RunnerModel | null {
  try {
    return toRunner(backend, raw, nowMs);
  } catch {
    return null;
  }
}
