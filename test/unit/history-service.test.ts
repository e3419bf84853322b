import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryService } from '../../src/history/history-service.ts';
import type { PipelineModel } from '../../src/model.ts';
import { TEST_POSTGRES_URL } from '../helpers/history-stores.ts';
import { waitFor } from '../helpers/stack.ts';

const DAY = 86_400_000;

function pipeline(nativeId: string): PipelineModel {
  return {
    type: 'Pipeline', backend: 'gh', nativeId, revision: [1], projectNativeId: 'acme/web', number: 1, name: 'ci', status: 'SUCCESS',
    waitReason: null, native: { provider: 'github', status: 'completed', conclusion: 'success', failureReason: null }, attempt: 1,
    url: null, branch: 'main', ref: null, commitSha: null, event: null, actor: null, createdAt: '2026-01-01T00:00:00.000Z',
    queuedAt: null, startedAt: null, finishedAt: null, updatedAt: null,
  };
}

describe('HistoryService retention', () => {
  const schema = `history_svc_${randomBytes(6).toString('hex')}`;
  const url = `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  let service: HistoryService | null = null;

  afterEach(async () => {
    await service?.close();
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('deletes, on its own timer, what is older than history.retentionDays, and only that', async () => {
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const now = new Date('2026-03-01T00:00:00.000Z');
    service = new HistoryService({ enabled: true, url: { value: url }, retentionDays: 2 }, (ref) => (ref && 'value' in ref ? ref.value : undefined), pino({ level: 'silent' }), () => now, { retentionIntervalMs: 20 });
    await service.start();
    const store = service.store();
    await store.record([
      { entity: pipeline('three-days-old'), observedAt: new Date(now.getTime() - 3 * DAY).toISOString() },
      { entity: pipeline('one-day-old'), observedAt: new Date(now.getTime() - 1 * DAY).toISOString() },
    ]);
    await waitFor(async () => (await store.query('SELECT 1 FROM transitions')).length === 1, 5000, 'the timer to prune');
    expect(await store.query('SELECT native_id FROM transitions')).toEqual([{ native_id: 'one-day-old' }]);
    expect(await store.query('SELECT native_id FROM pipelines')).toEqual([{ native_id: 'one-day-old' }]);
  });
});
