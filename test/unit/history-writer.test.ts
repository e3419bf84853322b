import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Observation, RecordResult } from '../../src/history/history-store.ts';
import { HistoryWriter } from '../../src/history/history-writer.ts';
import type { RunnerModel } from '../../src/model.ts';
import { waitFor } from '../helpers/stack.ts';

function observation(i: number): Observation {
  const runner: RunnerModel = {
    type: 'Runner', backend: 'gh', nativeId: `r${i}`, revision: [i], name: `r${i}`, state: 'IDLE', paused: false, labels: [],
    os: null, scope: 'ORGANIZATION', ephemeral: null, version: null, currentJobNativeId: null,
    native: { provider: 'github', status: 'online', conclusion: null, failureReason: null },
  };
  return { entity: runner, observedAt: '2026-01-01T00:00:00.000Z' };
}

/** A sink that records batches; while `held`, writes wait (a slow database). */
function sink() {
  const batches: number[][] = [];
  let release: () => void = () => {};
  let held: Promise<void> | null = null;
  let failNext = 0;
  const write = async (batch: readonly Observation[]): Promise<RecordResult> => {
    if (held) await held;
    if (failNext > 0) {
      failNext--;
      throw new Error('connection lost');
    }
    batches.push(batch.map((o) => o.entity.revision[0]!));
    return { inserted: batch.length };
  };
  return {
    batches, write,
    hold: () => (held = new Promise<void>((r) => (release = () => { held = null; r(); }))),
    release: () => release(),
    fail: (n: number) => (failNext = n),
  };
}

function logged() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('HistoryWriter (write-behind without Redis)', () => {
  it('writes in batches of at most maxBatch, in order, and nothing before start', async () => {
    const s = sink();
    const writer = new HistoryWriter(s.write, logged().log, { maxBatch: 3, flushMs: 5 });
    for (let i = 0; i < 7; i++) writer.push(observation(i));
    expect(s.batches).toEqual([]);
    writer.start();
    await waitFor(() => writer.stats.written === 7, 5000, 'all rows written');
    expect(s.batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    await writer.close();
  });

  it('never blocks push while the database is slow; past the bound it drops, counts and logs once per interval', async () => {
    const s = sink();
    const { log, lines } = logged();
    const writer = new HistoryWriter(s.write, log, { maxBatch: 2, flushMs: 1, maxBuffered: 4, logIntervalMs: 60_000 });
    s.hold();
    writer.start();
    writer.push(observation(0));
    writer.push(observation(1));
    await waitFor(() => writer.stats.buffered === 0, 5000, 'the first batch taken (and held)');
    for (let i = 2; i < 10; i++) writer.push(observation(i));
    expect(writer.stats).toEqual({ buffered: 4, dropped: 4, written: 0 });
    const overflow = lines.filter((l) => l['msg'] === 'history buffer full: observations dropped');
    expect(overflow).toHaveLength(1);
    expect(overflow[0]).toMatchObject({ dropped: 1, maxBuffered: 4 });
    s.release();
    await writer.close();
    expect(s.batches.flat()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('retries a failed batch (the store is idempotent) and flushes what is buffered on close', async () => {
    const s = sink();
    const { log, lines } = logged();
    const writer = new HistoryWriter(s.write, log, { maxBatch: 10, flushMs: 1 });
    s.fail(2);
    writer.start();
    writer.push(observation(0));
    await waitFor(() => writer.stats.written === 1, 5000, 'the retried batch written');
    expect(lines.some((l) => l['msg'] === 'history write failed; retrying' && l['err'] === 'connection lost')).toBe(true);
    const closing = new HistoryWriter(s.write, log, { maxBatch: 10, flushMs: 60_000 });
    closing.start();
    closing.push(observation(1));
    closing.push(observation(2));
    await closing.close();
    expect(s.batches).toEqual([[0], [1, 2]]);
    await writer.close();
  });
});
