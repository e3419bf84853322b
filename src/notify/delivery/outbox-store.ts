import type { CompiledScope } from '../../auth/scope.ts';
import type { HistoryStore } from '../../history/history-store.ts';
import type { DeliveryPage, DeliveryRecord, OutboxApi } from '../notify-context.ts';
import { deliveryId, type Notification } from '../notification.ts';
import { cursorOf, parseCursor, recordOf, type OutboxRow } from './outbox-rows.ts';
import {
  CLAIM_DUE, COUNTS, INSERT_DELIVERY, LIST_PAGE, MARK_DEAD, MARK_DELIVERED, MARK_DELIVERED_MANY, MARK_RETRY, NEXT_DUE, PRUNE_FINISHED, REDRIVE,
  REDRIVE_CANDIDATES, RELEASE_CLAIM,
} from './outbox-sql.ts';

/** Rows read per round while filtering a page by scope (a restricted caller may see few of them). */
const SCAN_BATCH = 200;

/** What happened to a claimed row: recorded by the sender that holds the claim. */
export type Completion =
  | { readonly kind: 'delivered'; readonly status: number | null }
  | { readonly kind: 'retry'; readonly status: number | null; readonly error: string; readonly nextAttemptAt: Date }
  | { readonly kind: 'dead'; readonly status: number | null; readonly error: string }
  | { readonly kind: 'release' };

/** Whether a caller's scope lets them see a message: its project, else its pool's runners, else its backend. */
export function scopeAllows(scope: CompiledScope, record: DeliveryRecord): boolean {
  const { notification: n } = record;
  if (scope.unrestricted) return true;
  if (n.project) return scope.allowsProject(n.backend, [n.project.nativeId, n.project.fullName]);
  if (n.pool) return scope.allowsRunners(n.backend);
  return scope.allowsBackend(n.backend);
}

function statementOf(id: string, sender: string, completion: Completion, at: string): [string, unknown[]] {
  switch (completion.kind) {
    case 'delivered':
      return [MARK_DELIVERED, [id, sender, at, completion.status]];
    case 'retry':
      return [MARK_RETRY, [id, sender, at, completion.status, completion.error, completion.nextAttemptAt.toISOString()]];
    case 'dead':
      return [MARK_DEAD, [id, sender, at, completion.status, completion.error]];
    case 'release':
      return [RELEASE_CLAIM, [id, sender, at]];
  }
}

/**
 * The outbox over the history database (outbox-migration.ts): what rules enqueue, what the
 * worker claims and completes, what GraphQL lists and re-drives. `store()` gives the open
 * store, or throws naming why there is none (the history is off, opening or down).
 */
export class OutboxStore implements OutboxApi {
  constructor(private readonly store: () => HistoryStore, private readonly now: () => Date) {}

  async enqueue(notification: Notification, sinks: readonly string[]): Promise<number> {
    if (sinks.length === 0) return 0;
    const at = this.now().toISOString();
    const json = JSON.stringify(notification);
    const project = notification.project;
    return this.store().transaction(async (session) => {
      let inserted = 0;
      for (const sink of new Set(sinks)) {
        const params = [deliveryId(notification.dedupeKey, sink), notification.dedupeKey, sink, json, notification.backend, project?.nativeId ?? null, project?.fullName ?? null, at];
        inserted += (await session.query(INSERT_DELIVERY, params)).affected;
      }
      return inserted;
    });
  }

  /** Claims up to `limit` due rows of `sink` for `sender` until `leaseUntil`; no other sender gets them meanwhile. */
  async claim(sink: string, limit: number, sender: string, leaseUntil: Date): Promise<DeliveryRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.store().transaction(async (session) =>
      (await session.query<OutboxRow>(CLAIM_DUE, [sink, this.now().toISOString(), limit, sender, leaseUntil.toISOString()])).rows);
    return rows.map(recordOf).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /** Records a claimed row's outcome; false when `sender` no longer holds the claim (its lease ran out and another took it, or it was re-driven). */
  async complete(id: string, sender: string, completion: Completion): Promise<boolean> {
    const [sql, params] = statementOf(id, sender, completion, this.now().toISOString());
    return this.store().transaction(async (session) => (await session.query(sql, params)).affected === 1);
  }

  /** Records several outcomes in one transaction (deliveries in one statement); `at` is when each attempt ended. Returns the rows still held. */
  async completeMany(sender: string, outcomes: readonly { readonly id: string; readonly completion: Completion; readonly at: Date }[]): Promise<number> {
    const delivered = outcomes.filter((o) => o.completion.kind === 'delivered');
    const others = outcomes.filter((o) => o.completion.kind !== 'delivered');
    return this.store().transaction(async (session) => {
      let held = 0;
      if (delivered.length > 0) {
        const statuses = delivered.map((o) => (o.completion.kind === 'delivered' ? o.completion.status : null));
        held += (await session.query(MARK_DELIVERED_MANY, [delivered.map((o) => o.id), statuses, delivered.map((o) => o.at.toISOString()), sender])).affected;
      }
      for (const o of others) {
        const [sql, params] = statementOf(o.id, sender, o.completion, o.at.toISOString());
        held += (await session.query(sql, params)).affected;
      }
      return held;
    });
  }

  async list(filter: { readonly state?: DeliveryRecord['state']; readonly sink?: string; readonly first: number; readonly after?: string }, scope: CompiledScope): Promise<DeliveryPage> {
    const first = Math.max(0, filter.first);
    let key: readonly [string, string] | null = filter.after ? parseCursor(filter.after) : null;
    const seen: { record: DeliveryRecord; cursor: string }[] = [];
    // Filtered before the page is cut: read on until first + 1 visible rows (one more tells hasNextPage) or the end.
    for (;;) {
      const batch = scope.unrestricted ? first + 1 : SCAN_BATCH;
      const rows = await this.store().query<OutboxRow>(LIST_PAGE, [filter.state ?? null, filter.sink ?? null, key?.[0] ?? null, key?.[1] ?? null, batch]);
      for (const row of rows) {
        const record = recordOf(row);
        if (scopeAllows(scope, record)) seen.push({ record, cursor: cursorOf(row) });
        if (seen.length > first) break;
      }
      const last = rows.at(-1);
      if (seen.length > first || rows.length < batch || !last) break;
      key = parseCursor(cursorOf(last));
    }
    const page = seen.slice(0, first);
    return { records: page.map((s) => s.record), endCursor: page.at(-1)?.cursor ?? null, hasNextPage: seen.length > first };
  }

  async redrive(target: { readonly ids?: readonly string[]; readonly sink?: string }, allowed: (record: DeliveryRecord) => boolean): Promise<number> {
    // Named rows may be dead or still pending (sent again from the first attempt); without ids, the dead letters.
    const states = target.ids ? ['dead', 'pending'] : ['dead'];
    const rows = await this.store().query<OutboxRow>(REDRIVE_CANDIDATES, [target.ids ? [...target.ids] : null, target.sink ?? null, states]);
    const ids = rows.map(recordOf).filter(allowed).map((r) => r.id);
    if (ids.length === 0) return 0;
    return this.store().transaction(async (session) => (await session.query(REDRIVE, [ids, this.now().toISOString()])).affected);
  }

  async counts(): Promise<ReadonlyMap<string, { readonly pending: number; readonly dead: number }>> {
    const rows = await this.store().query<{ sink: string; pending: number; dead: number }>(COUNTS);
    return new Map(rows.map((r) => [r.sink, { pending: Number(r.pending), dead: Number(r.dead) }]));
  }

  /** When the next row of these sinks falls due (a lease expiry included); null when none waits. */
  async nextDue(sinks: readonly string[]): Promise<Date | null> {
    const [row] = await this.store().query<{ due: Date | string | null }>(NEXT_DUE, [[...sinks]]);
    return row?.due ? new Date(row.due) : null;
  }

  /** Deletes delivered and dead rows finished before `cutoff`; returns how many. */
  async prune(cutoff: Date): Promise<number> {
    return this.store().transaction(async (session) => (await session.query(PRUNE_FINISHED, [cutoff.toISOString()])).affected);
  }
}
