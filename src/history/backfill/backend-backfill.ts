import type { Logger } from 'pino';
import type { BackendEntry } from '../../backend-registry.ts';
import type { ProjectModel } from '../../model.ts';
import type { HistoryStore } from '../history-store.ts';
import type { BackfillConfig } from './backfill-config.ts';
import { BackfillLease, LeaseLostError, type LeaseRow } from './backfill-lease.ts';
import { RequestBudget, sleep } from './budget.ts';
import { planPass, type ProjectProgress } from './planner.ts';
import { runPass } from './project-pass.ts';
import { ProgressStore } from './progress-store.ts';

export type BackfillState = 'IDLE' | 'RUNNING' | 'PAUSED_RATE_LIMITED' | 'DONE' | 'FAILED';

/** What `Backend.sync` shows: the backend's projects summed. */
export interface BackendSyncView {
  readonly state: BackfillState;
  readonly since: string | null;
  readonly imported: number;
  readonly importedJobs: number;
  readonly estimatedTotal: number | null;
  /** Everything created after this is imported (the projects' oldest cursor). */
  readonly oldestImportedAt: string | null;
  readonly requests: number;
  readonly projects: number;
  readonly projectsDone: number;
  readonly pausedUntil: string | null;
  readonly lastError: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

const LIST_PROJECTS_DEADLINE_MS = 60_000;
const MAX_PAUSE_TICK_MS = 500;
/** How often a follower reads the shared progress (at most): Backend.sync stays this fresh. */
const MAX_FOLLOW_POLL_MS = 2000;

/**
 * The backfill of one backend: lists its projects, plans each one's pass
 * from the progress table and runs `concurrency` of them at a time, inside
 * the backend's request budget and outside its rate-limit waits. Only the
 * instance holding the backend's lease (`holder`, see backfill-lease.ts)
 * does so; the others follow its progress and take over if it dies.
 */
export class BackendBackfill {
  private readonly projects = new Map<string, ProjectProgress>();
  private role: 'joining' | 'leading' | 'following' = 'joining';
  private phase: 'IDLE' | 'RUNNING' | 'DONE' | 'FAILED' = 'IDLE';
  private pausedUntilMs: number | null = null;
  private listError: string | null = null;
  private startedAt: Date | null = null;
  private finishedAt: Date | null = null;
  private readonly budget: RequestBudget;
  private listRequests = 0;
  /** Projects the holder listed (null before): published to followers. */
  private listed: number | null = null;
  private listedHook: (() => void) | null = null;

  constructor(
    private readonly backend: BackendEntry,
    private readonly config: BackfillConfig,
    private readonly log: Logger,
    private readonly now: () => Date,
    private readonly holder: string,
  ) {
    this.budget = new RequestBudget(config.requestsPerMinute);
  }

  /** This instance runs the backend's backfill now (it holds the lease). */
  get leading(): boolean {
    return this.role === 'leading';
  }

  get name(): string {
    return this.backend.name;
  }

  get running(): boolean {
    return this.phase === 'RUNNING';
  }

  /**
   * Takes the backend's lease and runs the pass, or follows the holder's progress until its
   * pass ends (taking over when it stops renewing). Ends when this round's pass has ended.
   */
  async run(store: HistoryStore, signal: AbortSignal): Promise<void> {
    const lease = new BackfillLease(store, this.name, this.holder, this.config.leaseSeconds);
    const pollMs = Math.min(MAX_FOLLOW_POLL_MS, (this.config.leaseSeconds * 1000) / 3);
    let failing = false;
    /** Lease bookkeeping on the database: a failure is retried at the next poll (one warn per outage). */
    const attempt = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
      try {
        const result = await work();
        failing = false;
        return result;
      } catch (error) {
        if (signal.aborted) throw error;
        if (!failing) this.log.warn({ backend: this.name, err: error instanceof Error ? error.message : String(error) }, 'backfill: the lease could not be read or taken; retrying');
        failing = true;
        return undefined;
      }
    };
    // When this instance joined, on the database's clock: a pass that ended after it is this round's.
    let joinedAt: Date | undefined;
    for (;; await sleep(pollMs, signal)) {
      joinedAt ??= await attempt(() => lease.databaseNow());
      if (!joinedAt) continue;
      const at = joinedAt;
      // The pass's own errors end the backfill until the next start, as on a single instance.
      if (await attempt(() => lease.take(at, this.now())) && await this.lead(store, lease, signal)) return;
      const row = await attempt(async () => {
        const r = await lease.read();
        await this.follow(r, new ProgressStore(store, this.now));
        return r;
      });
      // The round this instance joined has ended (on another instance): nothing left to do.
      if (row && row.state !== 'RUNNING' && row.endedAt && row.endedAt.getTime() >= at.getTime()) return;
    }
  }

  /**
   * Runs the pass while holding the lease, renewing it every third of its TTL and publishing
   * what followers show. True when the pass ended here; false when the lease was lost (another
   * instance goes on from the saved progress).
   */
  private async lead(store: HistoryStore, lease: BackfillLease, signal: AbortSignal): Promise<boolean> {
    this.role = 'leading';
    this.log.info({ backend: this.name, holder: this.holder, leaseSeconds: this.config.leaseSeconds }, 'backfill lease taken');
    const pass = new AbortController();
    const stopPass = () => pass.abort(signal.reason);
    signal.addEventListener('abort', stopPass, { once: true });
    const ttlMs = this.config.leaseSeconds * 1000;
    let lost = false;
    const lose = (why: string) => {
      lost = true;
      this.log.warn({ backend: this.name, holder: this.holder, why }, 'backfill lease lost; following the instance that holds it');
      pass.abort(new LeaseLostError(this.name));
    };
    let renewedMs = performance.now();
    const renew = async () => {
      try {
        const v = this.view();
        // RUNNING until end() says otherwise: a follower never sees an end without ended_at.
        const held = await lease.renew({ state: 'RUNNING', pausedUntil: v.pausedUntil ? new Date(v.pausedUntil) : null, projects: this.listed, lastError: this.listError });
        if (!held && !pass.signal.aborted) lose('another instance holds it');
        if (!held) return;
        renewedMs = performance.now();
      } catch (error) {
        // Not knowing for a whole TTL means another instance may have taken it: stop rather than run twice.
        if (performance.now() - renewedMs >= ttlMs && !pass.signal.aborted) lose(`not renewed for ${this.config.leaseSeconds} s: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    // Followers learn the project count as soon as it is known, not at the next renewal.
    this.listedHook = () => void renew();
    const renewing = (async () => {
      while (!pass.signal.aborted) {
        await sleep(ttlMs / 3, pass.signal).catch(() => {});
        if (!pass.signal.aborted) await renew();
      }
    })();
    try {
      await this.importAll(store, new ProgressStore(store, this.now, this.holder), pass.signal);
      pass.abort(new Error('the pass ended'));
      const v = this.view();
      await lease.end(this.phase === 'DONE' ? 'DONE' : 'FAILED', this.finishedAt ?? this.now(), v.projects, this.listError)
        .catch((error: unknown) => this.log.warn({ backend: this.name, err: error instanceof Error ? error.message : String(error) }, 'backfill: ending the lease failed; it expires'));
      return true;
    } catch (error) {
      if (!signal.aborted && (lost || error instanceof LeaseLostError)) {
        if (!lost) lose('a progress write found another holder');
        this.role = 'following';
        return false;
      }
      // Shutting down (or a failure): released now, so another instance resumes without waiting for the TTL.
      await lease.release().catch(() => {});
      throw error;
    } finally {
      pass.abort(new Error('the pass ended'));
      this.listedHook = null;
      signal.removeEventListener('abort', stopPass);
      await renewing;
    }
  }

  /** Backend.sync on an instance not holding the lease: the holder's published state and the shared progress rows. */
  private async follow(row: LeaseRow | null, progress: ProgressStore): Promise<void> {
    this.role = 'following';
    const rows = await progress.loadFollowed(this.name);
    const now = this.now();
    const startedMs = row?.startedAt?.getTime() ?? Infinity;
    this.projects.clear();
    // Rows not written in the holder's current pass: as the holder planned them (a DONE one starts again at 0).
    for (const { progress: p, updatedAt } of rows) this.projects.set(p.project, updatedAt.getTime() >= startedMs ? p : planPass(p, p.project, now, this.config.days));
    this.phase = row ? row.state : 'IDLE';
    this.pausedUntilMs = row?.state === 'RUNNING' && row.pausedUntil && row.pausedUntil.getTime() > now.getTime() ? row.pausedUntil.getTime() : null;
    this.listError = row?.lastError ?? null;
    this.listed = row?.projects ?? null;
    this.startedAt = row?.startedAt ?? null;
    this.finishedAt = row?.finishedAt ?? null;
    this.listRequests = 0;
  }

  /** The pass itself (this instance holds the lease). */
  private async importAll(store: HistoryStore, progress: ProgressStore, signal: AbortSignal): Promise<void> {
    this.listRequests = 0;
    this.listError = null;
    this.finishedAt = null;
    this.pausedUntilMs = null;
    this.listed = null;
    this.projects.clear();
    const rows = await progress.load(this.backend.name);
    for (const [project, row] of rows) this.projects.set(project, row);
    this.phase = 'RUNNING';
    this.startedAt = this.now();
    const projects = await this.listProjects(signal);
    if (!projects) {
      this.phase = 'FAILED';
      this.finishedAt = this.now();
      return;
    }
    this.listed = projects.length;
    this.listedHook?.();
    const now = this.now();
    const plans = projects.map((pr) => planPass(rows.get(pr.nativeId), pr.nativeId, now, this.config.days));
    this.projects.clear();
    for (const plan of plans) this.projects.set(plan.project, plan);
    this.log.info({ backend: this.name, projects: plans.length, since: plans[0]?.since.toISOString(), days: this.config.days, requestsPerMinute: this.config.requestsPerMinute, resumed: plans.filter((p) => p.imported > 0).length }, 'backfill started');
    const queue = [...plans];
    const deps = {
      backend: this.backend, store, progress, budget: this.budget, room: (s: AbortSignal) => this.room(s),
      pageSize: this.config.pageSize, now: this.now, log: this.log, changed: (p: ProjectProgress) => void this.projects.set(p.project, p),
    };
    const worker = async () => {
      for (let plan = queue.shift(); plan; plan = queue.shift()) {
        const end = await runPass(deps, plan, signal);
        this.projects.set(end.project, end);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.config.concurrency) }, worker));
    const view = this.view();
    this.phase = view.projectsDone === view.projects ? 'DONE' : 'FAILED';
    this.finishedAt = this.now();
    this.log.info({ backend: this.name, state: this.phase, imported: view.imported, importedJobs: view.importedJobs, requests: view.requests, ms: this.finishedAt.getTime() - this.startedAt.getTime() }, 'backfill done');
  }

  /** The configured projects, retried with backoff; null when the backend refuses (or keeps failing). */
  private async listProjects(signal: AbortSignal): Promise<readonly ProjectModel[] | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.room(signal);
        await this.budget.take(1, signal);
        this.listRequests++;
        const projects = await this.backend.policy.execute((s) => this.backend.adapter.listProjects(s), { signal, deadlineMs: LIST_PROJECTS_DEADLINE_MS, what: 'listing projects for the backfill' });
        this.listError = null;
        return projects;
      } catch (error) {
        if (signal.aborted) throw error;
        this.listError = error instanceof Error ? error.message : String(error);
        this.log.warn({ backend: this.name, attempt, err: this.listError }, 'backfill: listing projects failed');
        if (attempt >= 8) return null;
        await sleep(Math.min(60_000, 1000 * 2 ** (attempt - 1)), signal);
      }
    }
  }

  /** Waits while the policy holds a rate-limit wait or the window's remaining requests are below the reserve. */
  private async room(signal: AbortSignal): Promise<void> {
    for (;;) {
      const nowMs = this.now().getTime();
      const until = this.pausedUntil(nowMs);
      if (until === null) {
        if (this.pausedUntilMs !== null) this.log.info({ backend: this.name }, 'backfill resumed after the rate-limit pause');
        this.pausedUntilMs = null;
        return;
      }
      if (this.pausedUntilMs !== until) {
        const h = this.backend.health.current;
        this.log.info({ backend: this.name, until: new Date(until).toISOString(), rateLimitRemaining: h.rateLimitRemaining, reserve: this.config.rateLimitReserve }, 'backfill paused: rate limited');
      }
      this.pausedUntilMs = until;
      await sleep(Math.min(MAX_PAUSE_TICK_MS, until - nowMs), signal);
    }
  }

  private pausedUntil(nowMs: number): number | null {
    let until = this.backend.policy.blockedUntil();
    const h = this.backend.health.current;
    const resetMs = h.rateLimitResetAt?.getTime() ?? 0;
    if (h.rateLimitRemaining !== null && h.rateLimitRemaining < this.config.rateLimitReserve && resetMs > nowMs) until = Math.max(until, resetMs);
    return until > nowMs ? until : null;
  }

  view(): BackendSyncView {
    const all = [...this.projects.values()];
    const sum = (f: (p: ProjectProgress) => number) => all.reduce((n, p) => n + f(p), 0);
    // Projects not yet started are assumed to be like the average of those that have an estimate.
    const known = all.filter((p) => p.estimatedTotal !== null);
    const knownSum = known.reduce((n, p) => n + p.estimatedTotal!, 0);
    // A follower has rows only for the projects the holder has started; it published how many it listed.
    const projects = Math.max(all.length, this.listed ?? 0);
    const estimatedTotal = known.length === 0 ? null : knownSum + Math.round((knownSum / known.length) * (projects - known.length));
    const oldest = all.length > 0 ? Math.min(...all.map((p) => p.cursor.getTime())) : null;
    const failed = all.find((p) => p.lastError !== null);
    const paused = this.phase === 'RUNNING' && this.pausedUntilMs !== null;
    return {
      state: paused ? 'PAUSED_RATE_LIMITED' : this.phase,
      since: all.length > 0 ? new Date(Math.min(...all.map((p) => p.since.getTime()))).toISOString() : null,
      imported: sum((p) => p.imported),
      importedJobs: sum((p) => p.importedJobs),
      estimatedTotal,
      oldestImportedAt: oldest === null ? null : new Date(oldest).toISOString(),
      requests: this.listRequests + sum((p) => p.requests),
      projects,
      projectsDone: all.filter((p) => p.state === 'DONE').length,
      pausedUntil: paused ? new Date(this.pausedUntilMs!).toISOString() : null,
      lastError: this.listError ?? failed?.lastError ?? null,
      startedAt: this.startedAt?.toISOString() ?? null,
      finishedAt: this.finishedAt?.toISOString() ?? null,
    };
  }
}
