import type { PollResult } from '../../src/adapter-contract.ts';
import type { EntityModel, JobModel, PipelineModel } from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import { withRunClass, type BuildReader, type BuildState } from './builds.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { computersToRunners } from './computers.ts';
import { asRecord, int, loose, records } from './fields.ts';
import { formatQueueId, jobPath } from './native-ids.ts';
import { linkQueuedToBuild } from './normalize.ts';
import type { JobDirectory, JobEntry } from './projects.ts';
import { COMPUTERS_TREE, jobBuildsTree, QUEUE_ITEM_TREE, QUEUE_TREE } from './queries.ts';
import { queuedBuilds } from './queue.ts';

/**
 * One poll cycle (the core owns the timer and the backoff on errors). Every
 * cycle makes exactly three cheap requests:
 *   1. `/api/json?tree=jobs[...,lastBuild[number,building],jobs[...]]`: every
 *      job's last build number and building flag, folders recursed in the same
 *      request (depth = folderDepth);
 *   2. `/queue/api/json?tree=items[...]`;
 *   3. `/computer/api/json?tree=computer[...]`;
 * and then detail reads ONLY for jobs whose last build number or building
 * flag changed, that are building, or that have builds we saw running: one
 * `job/<path>/api/json?tree=builds[...]{0,n}` (every new build of the job in
 * one request) plus, per changed Pipeline job, one `wfapi/runs?fullStages=true`
 * (stages and steps of its newest ten runs; see builds.ts). So a cycle costs
 * 3 + O(changed jobs) requests, never O(all jobs) or O(stages).
 *
 * The first cycle takes a baseline: jobs that are not building are only
 * remembered (reads are served by the loaders), so start-up is cheap too.
 * Detail reads that do not fit the request budget are deferred to the next
 * cycle. The next interval adapts: `pollIntervalMs` while anything builds or
 * waits in the queue, `idlePollIntervalMs` otherwise.
 */
const MAX_NEW_BUILDS_PER_JOB = 10;
const MAX_TRACKED = 5000;

interface SeenJob {
  readonly number: number;
  readonly building: boolean;
}

interface QueueAlias {
  readonly nativeId: string;
  readonly fullName: string;
  queued: PipelineModel | null;
  inQueue: boolean;
  /** The build it became, once known. */
  buildNumber: number | null;
}

export interface PollerDeps {
  readonly backend: string;
  readonly client: JenkinsClient;
  readonly jobs: JobDirectory;
  readonly reader: BuildReader;
  readonly now: () => Date;
  readonly pollIntervalMs: number;
  readonly idlePollIntervalMs: number;
  readonly log?: { warn(o: object, m?: string): void; debug(o: object, m?: string): void };
}

export interface CycleStats {
  baseRequests: number;
  detailJobs: number;
  deferredJobs: number;
}

export class Poller {
  private seenJobs: Map<string, SeenJob> | null = null;
  /** Builds seen building, by job: re-read until they finish. */
  private readonly activeBuilds = new Map<string, Set<number>>();
  /** What was last emitted per build (pipeline + jobs revisions), so unchanged builds emit nothing. */
  private readonly emitted = new Map<string, string>();
  private readonly deferred = new Set<string>();
  private readonly aliases = new Map<number, QueueAlias>();
  /** Counters of the last cycle (for tests and benchmarks). */
  lastCycle: CycleStats = { baseRequests: 0, detailJobs: 0, deferredJobs: 0 };

  constructor(private readonly deps: PollerDeps) {}

  async poll(signal?: AbortSignal): Promise<PollResult> {
    const { client, backend } = this.deps;
    const stats: CycleStats = { baseRequests: 3, detailJobs: 0, deferredJobs: 0 };
    const observedAtMs = this.deps.now().getTime();
    const [scanned, queue, computers] = await Promise.allSettled([
      this.deps.jobs.scan(),
      client.getJson('/queue/api/json', QUEUE_TREE, undefined, signal),
      client.getJson('/computer/api/json', COMPUTERS_TREE, undefined, signal),
    ]);
    // Without the job scan there is nothing to decide from: let the core back off.
    if (scanned.status === 'rejected') throw scanned.reason;
    const jobs = scanned.value;

    const pipelines: PipelineModel[] = [];
    const jobModels: JobModel[] = [];

    // ---- queue ------------------------------------------------------------
    let queueLength = 0;
    if (queue.status === 'fulfilled') {
      const items = queuedBuilds(backend, queue.value, (n) => this.deps.jobs.covers(n));
      queueLength = items.length;
      for (const a of this.aliases.values()) a.inQueue = false;
      for (const item of items) {
        const alias = this.aliases.get(item.id) ?? { nativeId: item.model.nativeId, fullName: item.fullName, queued: null, inQueue: true, buildNumber: null };
        alias.queued = item.model;
        alias.inQueue = true;
        this.aliases.set(item.id, alias);
        pipelines.push(item.model);
      }
    } else {
      this.deps.log?.warn({ err: errorText(queue.reason) }, 'Jenkins queue read failed');
    }

    // ---- jobs: decide which need details ------------------------------------
    const first = this.seenJobs === null;
    const previous = this.seenJobs ?? new Map<string, SeenJob>();
    const next = new Map<string, SeenJob>();
    const toRead: Array<{ entry: JobEntry; since: number }> = [];
    for (const entry of jobs) {
      this.deps.reader.noteNewest(entry.fullName, entry.lastBuild?.number);
      const now: SeenJob = { number: entry.lastBuild?.number ?? 0, building: entry.lastBuild?.building ?? false };
      const before = previous.get(entry.fullName);
      const active = this.activeBuilds.get(entry.fullName);
      const changed = before === undefined ? !first || now.building : before.number !== now.number || before.building !== now.building;
      if (changed || now.building || (active && active.size > 0) || this.deferred.has(entry.fullName)) {
        toRead.push({ entry, since: before?.number ?? (first ? now.number - 1 : 0) });
        // Remembered only once read, so a deferred or failed read is retried.
        if (before) next.set(entry.fullName, before);
      } else {
        next.set(entry.fullName, now);
      }
    }
    // Building jobs first: they are what a user is watching.
    toRead.sort((a, b) => Number(b.entry.lastBuild?.building ?? false) - Number(a.entry.lastBuild?.building ?? false));

    const errors: unknown[] = [];
    const readJobs = new Set<string>();
    await Promise.all(
      toRead.map(async ({ entry, since }) => {
        // One request for the builds, one for a Pipeline job's stage view.
        const cost = 1 + (entry.cls && /Workflow/.test(entry.cls) ? 1 : 0);
        if (this.deps.client.budget.available() < cost) {
          this.deferred.add(entry.fullName);
          stats.deferredJobs++;
          return;
        }
        stats.detailJobs++;
        try {
          await this.readJob(entry, since, pipelines, jobModels);
          this.deferred.delete(entry.fullName);
          readJobs.add(entry.fullName);
          next.set(entry.fullName, { number: entry.lastBuild?.number ?? 0, building: entry.lastBuild?.building ?? false });
        } catch (error) {
          errors.push(error);
          this.deferred.add(entry.fullName);
        }
      }),
    );
    this.seenJobs = next;
    for (const name of [...this.activeBuilds.keys()]) if (!next.has(name)) this.activeBuilds.delete(name);
    for (const name of [...this.deferred]) if (!next.has(name)) this.deferred.delete(name);

    // ---- queue items that left without us seeing their build ---------------
    await this.settleAliases(pipelines);

    // ---- runners (last: job events they overlay come first) -----------------
    const runners = computers.status === 'fulfilled' ? computersToRunners(backend, computers.value, this.deps.jobs, observedAtMs) : [];
    if (computers.status === 'rejected') this.deps.log?.warn({ err: errorText(computers.reason) }, 'Jenkins computer read failed');

    for (const e of errors) this.deps.log?.warn({ err: errorText(e) }, 'Jenkins detail read failed');
    this.prune();
    this.lastCycle = stats;

    // Finished jobs first, so a runner freed by one stage is not re-freed after the next one claimed it.
    jobModels.sort((a, b) => Number(a.status === 'RUNNING') - Number(b.status === 'RUNNING'));
    const entities: EntityModel[] = [...pipelines, ...jobModels, ...runners];
    const busy = jobs.some((j) => j.lastBuild?.building) || queueLength > 0 || this.deferred.size > 0
      || [...this.activeBuilds.values()].some((s) => s.size > 0);
    return { entities, nextPollAfterMs: busy ? this.deps.pollIntervalMs : this.deps.idlePollIntervalMs };
  }

  /** Reads the job's new and still-active builds in one request, then their stages. */
  private async readJob(entry: JobEntry, since: number, pipelines: PipelineModel[], jobModels: JobModel[]): Promise<void> {
    const last = entry.lastBuild?.number ?? 0;
    if (last === 0) return;
    const active = this.activeBuilds.get(entry.fullName) ?? new Set<number>();
    const oldest = Math.min(Math.max(since + 1, last - MAX_NEW_BUILDS_PER_JOB + 1), ...active);
    const count = Math.max(1, Math.min(100, last - oldest + 1));
    const answer = await nullOn404(this.deps.client.getJson(`${jobPath(entry.fullName)}/api/json`, jobBuildsTree(count)));
    if (answer === null) return;
    const job = loose(answer);
    const builds = records(job.builds).map((b) => withRunClass(b, job._class));
    const changed = builds.filter((raw) => {
      const number = int(raw.number);
      return number !== null && (number > since || active.has(number) || raw.building === true);
    });
    // Oldest first, as before; the stage view of all of them in one `wfapi/runs` read where it reaches.
    changed.reverse();
    const states = await this.deps.reader.statesFromRaw(entry.fullName, changed, entry.branch, 'all');
    for (const state of states) {
      const number = state.pipeline.number!;
      this.emit(state, pipelines, jobModels);
      if (state.raw.building === true) active.add(number);
      else active.delete(number);
    }
    if (active.size > 0) this.activeBuilds.set(entry.fullName, active);
    else this.activeBuilds.delete(entry.fullName);
  }

  private emit(state: BuildState, pipelines: PipelineModel[], jobModels: JobModel[]): void {
    const p = state.pipeline;
    const fp = [p, ...state.jobs].map((e) => `${e.nativeId}@${e.revision.join('.')}:${e.status}:${'steps' in e ? e.steps.map((s) => s.status).join(',') : ''}`).join('|');
    // The queued item this build came from follows it.
    const queueId = int(state.raw.queueId);
    const alias = queueId !== null ? this.aliases.get(queueId) : undefined;
    if (alias && alias.fullName === p.projectNativeId) {
      alias.buildNumber = p.number;
      alias.inQueue = false;
      pipelines.push(linkQueuedToBuild(alias.nativeId, alias.queued, p));
      if (isTerminal(p.status) && queueId !== null) this.aliases.delete(queueId);
    }
    if (this.emitted.get(p.nativeId) === fp) return;
    this.emitted.delete(p.nativeId);
    this.emitted.set(p.nativeId, fp);
    pipelines.push(p);
    jobModels.push(...state.jobs);
  }

  /** Items that left the queue and whose build was not read this cycle: cancelled, or started. */
  private async settleAliases(pipelines: PipelineModel[]): Promise<void> {
    const gone = [...this.aliases].filter(([, a]) => !a.inQueue && a.buildNumber === null);
    await Promise.all(
      gone.map(async ([id, alias]) => {
        if (this.deps.client.budget.available() < 1) return;
        try {
          const item = await nullOn404(this.deps.client.getJson<unknown>(`/queue/item/${id}/api/json`, QUEUE_ITEM_TREE));
          if (item === null) {
            this.aliases.delete(id); // forgotten by Jenkins (left items live ~5 minutes)
            return;
          }
          const it = loose(item);
          const executable = asRecord(it.executable);
          if (executable && int(executable.number) !== null) {
            alias.buildNumber = int(executable.number); // the job's next detail read links it
          } else if (it.cancelled === true && alias.queued) {
            pipelines.push(cancelledAlias(alias.queued));
            this.aliases.delete(id);
          }
        } catch (error) {
          this.deps.log?.debug({ err: errorText(error) }, 'Jenkins queue item read failed');
        }
      }),
    );
  }

  private prune(): void {
    while (this.emitted.size > MAX_TRACKED) {
      const oldest = this.emitted.keys().next();
      if (oldest.done) break;
      this.emitted.delete(oldest.value);
    }
    while (this.aliases.size > MAX_TRACKED) {
      const oldest = this.aliases.keys().next();
      if (oldest.done) break;
      this.aliases.delete(oldest.value);
    }
  }
}

/** A queue item cancelled before it started. */
export function cancelledAlias(queued: PipelineModel): PipelineModel {
  return {
    ...queued,
    status: 'CANCELED',
    waitReason: null,
    revision: [2, queued.revision[1] ?? 0],
    native: { ...queued.native, status: 'LeftItem', conclusion: 'cancelled' },
    finishedAt: null,
  };
}

export function queueAliasId(fullName: string, queueId: number): string {
  return formatQueueId(fullName, queueId);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

