import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { startStack } from '../helpers/stack.ts';

const ATTEMPTS = Number(process.env.FLOOD ?? 10_000);
const CONCURRENCY = 16;

describe('audit records of rejected webhook attempts are bounded', () => {
  it('should write a bounded number of audit bytes for 10,000 rejected deliveries and keep their count', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-audit-flood-')), 'audit.jsonl');
    // A summary interval longer than the test: every count arrives in the summaries written at close.
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { audit: { file, rejectionSummarySeconds: 3600 } } });
    const body = JSON.stringify({ zen: 'flood' });
    const forged = `sha256=${createHmac('sha256', 'not-the-secret').update(body).digest('hex')}`;
    const longName = 'x'.repeat(2000);
    /** Three kinds of attempt: a 2 KB unknown path, a fresh 2 KB unknown path each time, a forged signature. */
    const attempt = (i: number) => {
      const kind = i % 3;
      const path = kind === 0 ? `/webhooks/${longName}` : kind === 1 ? `/webhooks/${randomUUID()}${longName}` : '/webhooks/gh';
      return fetch(`${stack.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': forged },
        body,
      }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
    };
    const statuses = new Map<number, number>();
    try {
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < ATTEMPTS) {
          const status = await attempt(next++);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }));
    } finally {
      await stack.close();
    }
    const forgedCount = Math.floor(ATTEMPTS / 3);
    expect(statuses).toEqual(new Map([[404, ATTEMPTS - forgedCount], [401, forgedCount]]));

    const bytes = statSync(file).size;
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const written = records.filter((r) => r.kind === 'webhook' && r.effect === 'rejected').length;
    const counted = records.reduce((n, r) => n + (r.kind === 'webhook-rejections' ? r.count : 0), 0);
    console.log(`${ATTEMPTS} rejected webhook attempts → ${records.length} audit records, ${bytes} bytes (${written} in full, ${counted} counted in summaries)`);
    // One record in full per backend + reason + address (unknown names count as one backend), then summaries.
    expect(written).toBe(2);
    expect(written + counted).toBe(ATTEMPTS);
    expect(bytes).toBeLessThan(8 * 1024);
    // No record carries the 2 KB name.
    expect(Math.max(...records.map((r) => JSON.stringify(r).length))).toBeLessThan(1024);
    expect((await verifyAuditLog(file)).ok).toBe(true);
  }, 180_000);
});
