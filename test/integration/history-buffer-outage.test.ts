import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/events/event-types.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import type { JobModel } from '../../src/model.ts';
import { postgresSchema } from '../helpers/history-recorded.ts';
import { waitFor } from '../helpers/stack.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

function jobEvent(i: number): JobEvent {
  const job: JobModel = {
    type: 'Job', backend: 'gh', nativeId: `j${i}`, revision: [1, i], projectNativeId: 'acme/web', pipelineNativeId: 'p1', name: `job-${i}`,
    status: 'SUCCESS', waitReason: null, native: { provider: 'github', status: 'completed', conclusion: 'success', failureReason: null },
    attempt: 1, url: null, labels: ['linux'], runnerNativeId: null, runnerName: null, branch: 'main',
    createdAt: '2026-01-01T10:00:00.000Z', queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  };
  return { type: 'Job', job, previousStatus: null, sequence: i, source: 'WEBHOOK', receivedAt: new Date().toISOString() };
}

describe('history without Redis: the bounded buffer across a PostgreSQL outage (through a proxy the test cuts)', () => {
  const MAX_BUFFERED = 10;
  const logs: Record<string, unknown>[] = [];
  let proxy: TcpProxy;
  let database: Awaited<ReturnType<typeof postgresSchema>>;
  let reader: SqlHistoryStore;
  let service: HistoryService;
  let next = 0;
  const observe = (n: number) => {
    for (let k = 0; k < n; k++) service.observe(jobEvent(next++));
  };
  const rows = async () => (await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM transitions'))[0]!.n;

  beforeAll(async () => {
    proxy = await startTcpProxy(5432);
    database = await postgresSchema(proxy.port);
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    service = new HistoryService(
      { enabled: true, url: { value: database.url }, retentionDays: 90 }, (ref) => (ref && 'value' in ref ? ref.value : undefined), log, () => new Date(),
      { writer: { maxBuffered: MAX_BUFFERED, flushMs: 5, logIntervalMs: 0 }, probeMs: 50 },
    );
    await service.start();
    reader = await database.reader();
  }, 30_000);

  afterAll(async () => {
    await service?.close();
    await reader?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('loses nothing in an outage within the bound', async () => {
    observe(3);
    await waitFor(async () => (await rows()) === 3, 5000, 'the first rows');
    await proxy.cut();
    observe(1);
    await waitFor(async () => (await service.status()).state === 'degraded', 10_000, 'the history to degrade');
    observe(MAX_BUFFERED - 2);
    expect(await service.status()).toMatchObject({ state: 'degraded', feed: 'buffer', dropped: 0 });
    await proxy.restore();
    await waitFor(async () => (await rows()) === 3 + MAX_BUFFERED - 1, 15_000, 'the buffered rows written');
    await waitFor(async () => (await service.status()).state === 'ok', 5000, 'the history to recover');
    expect(await service.status()).toMatchObject({ state: 'ok', buffered: 0, dropped: 0, written: 3 + MAX_BUFFERED - 1 });
  });

  it('past the bound, drops and reports how many (status and log), and writes what it held', async () => {
    const before = await rows();
    await proxy.cut();
    observe(1);
    await waitFor(async () => (await service.status()).state === 'degraded', 10_000, 'the history to degrade');
    observe(MAX_BUFFERED + 4);
    await waitFor(async () => (await service.status()).dropped === 5, 5000, 'the overflow counted');
    expect(await service.status()).toMatchObject({ state: 'degraded', buffered: MAX_BUFFERED, dropped: 5 });
    const overflow = logs.filter((l) => l.msg === 'history buffer full: observations dropped');
    expect(overflow.at(-1)).toMatchObject({ level: 40, droppedTotal: 5, maxBuffered: MAX_BUFFERED });
    await proxy.restore();
    await waitFor(async () => (await rows()) === before + MAX_BUFFERED, 15_000, 'the held rows written');
    await waitFor(async () => (await service.status()).state === 'ok', 5000, 'the history to recover');
    expect(await service.status()).toMatchObject({ state: 'ok', buffered: 0, dropped: 5 });
    expect(logs.filter((l) => String(l.msg).startsWith('history degraded'))).toHaveLength(2);
    expect(logs.filter((l) => String(l.msg).startsWith('history recovered'))).toHaveLength(2);
  });
});
