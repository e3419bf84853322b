import { describe, expect, it } from 'vitest';
import { createMemoryAuditLog } from '../../src/audit/audit-log.ts';
import { clipForAudit, RejectionAuditor } from '../../src/audit/rejection-summary.ts';

describe('rejected webhook attempts in the audit log', () => {
  const at = (() => {
    let t = Date.parse('2026-05-01T10:00:00Z');
    return () => new Date((t += 1000));
  })();

  it('should write the first attempt per backend + reason + address in full, then one count per interval, and forget idle keys', () => {
    const log = createMemoryAuditLog({ now: at });
    const auditor = new RejectionAuditor(log, { intervalMs: 3_600_000, now: at });
    const attempt = (remoteAddress: string, backend = 'gh') => auditor.record({ backend, reason: 'signature mismatch', remoteAddress, verified: false });
    for (let i = 0; i < 500; i++) attempt('10.0.0.1');
    attempt('10.0.0.2');
    expect(log.records.map((r) => r.kind)).toEqual(['webhook', 'webhook']);
    auditor.flush();
    expect(log.records.filter((r) => r.kind === 'webhook-rejections')).toEqual([
      expect.objectContaining({ backend: 'gh', reason: 'signature mismatch', remoteAddress: '10.0.0.1', count: 499 }),
    ]);
    // 10.0.0.2 had nothing more: forgotten, so its next attempt is written in full again.
    attempt('10.0.0.2');
    expect(log.records.at(-1)).toMatchObject({ kind: 'webhook', remoteAddress: '10.0.0.2' });
    auditor.close();
  });

  it('should clip names and reasons, and count past maxKeys distinct keys under *', () => {
    const log = createMemoryAuditLog({ now: at });
    const auditor = new RejectionAuditor(log, { intervalMs: 3_600_000, maxKeys: 10, now: at });
    for (let i = 0; i < 1000; i++) auditor.record({ backend: `${i}${'y'.repeat(2000)}`, reason: 'unknown backend', remoteAddress: `10.0.${i}.1`, verified: false });
    auditor.close();
    expect(log.records.filter((r) => r.kind === 'webhook')).toHaveLength(10);
    expect(log.records.filter((r) => r.kind === 'webhook-rejections')).toEqual([expect.objectContaining({ backend: '*', count: 990 })]);
    expect(Math.max(...log.lines.map((l) => l.length))).toBeLessThan(700);
    expect(clipForAudit('z'.repeat(250))).toBe(`${'z'.repeat(200)}[truncated 50 chars]`);
  });
});
