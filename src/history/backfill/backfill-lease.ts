import type { HistoryStore } from '../history-store.ts';
import {
  BACKFILL_LEASE_OF_BACKEND, DATABASE_NOW, END_BACKFILL_LEASE, RELEASE_BACKFILL_LEASE, RENEW_BACKFILL_LEASE, TAKE_BACKFILL_LEASE,
} from '../sql.ts';

/*
 * Why a lease row with an expiry, not a session advisory lock: a session lock belongs to one
 * connection, and ours are pooled (pg) or behind a worker (PGlite), so the connection that
 * took it is not the one that later checks or frees it, and a pool that recycles a connection
 * frees it silently. A row is visible to every instance, carries what followers show (state,
 * pause, projects), is renewed by plain statements on any connection, and a holder that dies
 * loses it after its TTL, on the database's clock, with no connection left to break.
 */

export type LeaseState = 'RUNNING' | 'DONE' | 'FAILED';

/** The lease row as a follower sees it. */
export interface LeaseRow {
  readonly holder: string;
  readonly state: LeaseState;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly pausedUntil: Date | null;
  readonly projects: number | null;
  readonly lastError: string | null;
  /** When the pass ended, on the database's clock (null while RUNNING). */
  readonly endedAt: Date | null;
  /** Its holder stopped renewing it (or released it). */
  readonly expired: boolean;
}

/** What the holder publishes at each renewal. */
export interface LeasePublished {
  readonly state: 'RUNNING';
  readonly pausedUntil: Date | null;
  readonly projects: number | null;
  readonly lastError: string | null;
}

interface Row {
  holder: string;
  state: LeaseState;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  paused_until: Date | string | null;
  projects: number | null;
  last_error: string | null;
  ended_at: Date | string | null;
  expired: boolean;
}

const maybeDate = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));
const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * One backend's backfill lease (migration 7) for one instance (`holder`): at most one
 * instance of those sharing the history runs the backfill; the others follow its progress.
 */
export class BackfillLease {
  constructor(
    private readonly store: HistoryStore,
    readonly backend: string,
    readonly holder: string,
    private readonly seconds: number,
  ) {}

  /** The database's clock now: when this instance joined (TAKE_BACKFILL_LEASE's $4). */
  async databaseNow(): Promise<Date> {
    const [row] = await this.store.query<{ now: Date | string }>(DATABASE_NOW);
    return maybeDate(row!.now)!;
  }

  /** Takes the lease if it is free (see TAKE_BACKFILL_LEASE); true when this instance holds it. */
  async take(joinedAt: Date, startedAt: Date): Promise<boolean> {
    const rows = await this.store.query(TAKE_BACKFILL_LEASE, [this.backend, this.holder, this.seconds, joinedAt.toISOString(), startedAt.toISOString()]);
    return rows.length > 0;
  }

  /** Extends the lease; false when another instance holds it now (this one must stop). */
  async renew(published: LeasePublished): Promise<boolean> {
    const rows = await this.store.query(RENEW_BACKFILL_LEASE, [this.backend, this.holder, this.seconds, published.state, iso(published.pausedUntil), published.projects, published.lastError]);
    return rows.length > 0;
  }

  /** The pass ended (DONE or FAILED): released, and this round's followers stop. */
  async end(state: 'DONE' | 'FAILED', finishedAt: Date, projects: number, lastError: string | null): Promise<void> {
    await this.store.query(END_BACKFILL_LEASE, [this.backend, this.holder, state, finishedAt.toISOString(), projects, lastError]);
  }

  /** Stopping mid-pass: released at once (still RUNNING) so another instance resumes now, not after the TTL. */
  async release(): Promise<void> {
    await this.store.query(RELEASE_BACKFILL_LEASE, [this.backend, this.holder]);
  }

  async read(): Promise<LeaseRow | null> {
    const [r] = await this.store.query<Row>(BACKFILL_LEASE_OF_BACKEND, [this.backend]);
    if (!r) return null;
    return {
      holder: r.holder, state: r.state, startedAt: maybeDate(r.started_at), finishedAt: maybeDate(r.finished_at),
      pausedUntil: maybeDate(r.paused_until), projects: r.projects, lastError: r.last_error, endedAt: maybeDate(r.ended_at), expired: r.expired,
    };
  }
}

/** Thrown into a holder's pass when its lease is gone: it stops and follows. */
export class LeaseLostError extends Error {
  constructor(backend: string) {
    super(`the backfill lease of ${backend} is held by another instance`);
  }
}
