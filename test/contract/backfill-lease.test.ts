import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BackfillLease, LeaseLostError } from '../../src/history/backfill/backfill-lease.ts';
import { planPass } from '../../src/history/backfill/planner.ts';
import { ProgressStore } from '../../src/history/backfill/progress-store.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { waitFor } from '../helpers/stack.ts';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const LONG = 600;
const published = { state: 'RUNNING' as const, pausedUntil: null, projects: 2, lastError: null };

describe.each(HISTORY_DATABASES)('the backfill lease on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let a: SqlHistoryStore;
  let b: SqlHistoryStore;

  let backend = 'gh';
  let tests = 0;

  beforeAll(async () => {
    ({ db, store: a } = await migratedStore(createDatabase));
    // A second instance: its own store (connections) over the same database.
    b = await db.open();
  });
  afterAll(async () => {
    await db?.drop();
  });
  // One database for the file (PGlite opens slowly); each test a backend of its own.
  beforeEach(() => {
    backend = `gh${++tests}`;
  });

  const lease = (store: SqlHistoryStore, holder: string, seconds = LONG) => new BackfillLease(store, backend, holder, seconds);

  it('two instances taking a free lease at once: exactly one gets it, and the other cannot take or renew it while it is held', async () => {
    const [la, lb] = [lease(a, 'a'), lease(b, 'b')];
    const joined = await la.databaseNow();
    const taken = await Promise.all([la.take(joined, NOW), lb.take(joined, NOW)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    const [holder, other] = taken[0] ? [la, lb] : [lb, la];
    expect(await other.take(await other.databaseNow(), NOW)).toBe(false);
    expect(await other.renew(published)).toBe(false);
    expect(await holder.renew(published)).toBe(true);
    expect(await other.read()).toMatchObject({ holder: holder.holder, state: 'RUNNING', projects: 2, expired: false });
    // Another backend's lease is separate.
    expect(await new BackfillLease(b, `${backend}-other`, other.holder, LONG).take(joined, NOW)).toBe(true);
  });

  it('a holder that stops renewing loses the lease after its TTL; the taker resumes, and the old holder can neither renew nor write progress', async () => {
    const dead = lease(a, 'dead', 0.3);
    const next = lease(b, 'next');
    const joined = await next.databaseNow();
    expect(await dead.take(joined, NOW)).toBe(true);
    const plan = planPass(undefined, 'octo-org/api', NOW, 1);
    await new ProgressStore(a, () => NOW, 'dead').save(backend, { ...plan, imported: 20 });
    // Barrier: the database's clock passing the TTL (polled, with a deadline).
    await waitFor(async () => (await next.read())!.expired, 10_000, 'the lease to expire');
    expect(await next.take(joined, NOW)).toBe(true);
    expect(await next.read()).toMatchObject({ holder: 'next', state: 'RUNNING' });
    expect(await dead.renew(published)).toBe(false);
    await expect(new ProgressStore(a, () => NOW, 'dead').save(backend, { ...plan, imported: 1 })).rejects.toBeInstanceOf(LeaseLostError);
    // The saved progress is where the taker resumes.
    const rows = await new ProgressStore(b, () => NOW).load(backend);
    expect(rows.get('octo-org/api')?.imported).toBe(20);
    await new ProgressStore(b, () => NOW, 'next').save(backend, { ...plan, imported: 30 });
    expect((await new ProgressStore(a, () => NOW).load(backend)).get('octo-org/api')?.imported).toBe(30);
  });

  it('a holder that shuts down mid-pass releases the lease: another instance takes it at once', async () => {
    const [la, lb] = [lease(a, 'a'), lease(b, 'b')];
    const joined = await la.databaseNow();
    expect(await la.take(joined, NOW)).toBe(true);
    expect(await lb.take(joined, NOW)).toBe(false);
    await la.release();
    expect(await lb.take(joined, NOW)).toBe(true);
  });

  it('a pass that ended after a follower joined is not run again by it; an instance joining later starts a new round', async () => {
    const [la, lb] = [lease(a, 'a'), lease(b, 'b')];
    const bJoined = await lb.databaseNow();
    expect(await la.take(await la.databaseNow(), NOW)).toBe(true);
    expect(await lb.take(bJoined, NOW)).toBe(false);
    await la.end('DONE', NOW, 2, null);
    // A renewal racing the end does not reopen it.
    expect(await la.renew(published)).toBe(false);
    expect(await lb.read()).toMatchObject({ holder: 'a', state: 'DONE', expired: true, finishedAt: NOW, projects: 2 });
    expect(await lb.take(bJoined, NOW)).toBe(false);
    const later = lease(b, 'c');
    expect(await later.take(await later.databaseNow(), NOW)).toBe(true);
    expect(await later.read()).toMatchObject({ holder: 'c', state: 'RUNNING', finishedAt: null, endedAt: null });
  });
});
