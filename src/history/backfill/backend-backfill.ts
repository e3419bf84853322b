import type { Logger } from 'pino';
import type { BackendEntry } from '../../backend-registry.ts';
import type { HistoryStore } from '../history-store.ts';
import type { BackfillConfig } from './backfill-config.ts';
import { BackfillLease, LeaseLostError, type LeaseRow } from './backfill-lease.ts';
import { syncView, type BackendSyncView } from './backend-sync-view.ts';
import { RequestBudget, sleep } from './budget.ts';
import { LeaseRenewal } from './lease-renewal.ts';
import { planPass, type ProjectProgress } from './planner.ts';
import { listProjectsToBackfill } from './project-listing.ts';
import { runPass } from './project-pass.ts';
import { ProgressStore } from './progress-store.ts';
import { RateLimitPause } from './rate-limit-pause.ts';

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
  private readonly pause: RateLimitPause;
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
    this.pause = new RateLimitPause(backend, config.rateLimitReserve, log, now);
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
    let lost = false;
    const lose = (why: string) => {
      lost = true;
      this.log.warn({ backend: this.name, holder: this.holder, why }, 'backfill lease lost; following the instance that holds it');
      pass.abort(new LeaseLostError(this.name));
    };
    const renewal = new LeaseRenewal(lease, this.config.leaseSeconds, pass.signal, () => {
      const v = this.view();
      // RUNNING until end() says otherwise: a follower never sees an end without ended_at.
      return { state: 'RUNNING', pausedUntil: v.pausedUntil ? new Date(v.pausedUntil) : null, projects: this.listed, lastError: this.listError };
    }, lose);
    // Followers learn the project count as soon as it is known, not at the next renewal.
    this.listedHook = () => void renewal.renew();
    const renewing = renewal.untilPassEnds();
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
    this.pause.untilMs = row?.state === 'RUNNING' && row.pausedUntil && row.pausedUntil.getTime() > now.getTime() ? row.pausedUntil.getTime() : null;
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
    this.pause.untilMs = null;
    this.listed = null;
    this.projects.clear();
    const rows = await progress.load(this.backend.name);
    for (const [project, row] of rows) this.projects.set(project, row);
    this.phase = 'RUNNING';
    this.startedAt = this.now();
    const projects = await listProjectsToBackfill({
      backend: this.backend, budget: this.budget, room: (s) => this.pause.room(s), log: this.log,
      requested: () => void this.listRequests++, failed: (message) => void (this.listError = message),
    }, signal);
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
      backend: this.backend, store, progress, budget: this.budget, room: (s: AbortSignal) => this.pause.room(s),
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

  view(): BackendSyncView {
    return syncView({
      projects: [...this.projects.values()], phase: this.phase, pausedUntilMs: this.pause.untilMs, listed: this.listed,
      listRequests: this.listRequests, listError: this.listError, startedAt: this.startedAt, finishedAt: this.finishedAt,
    });
  }
}
