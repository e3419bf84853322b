import { describe, expect, it } from 'vitest';
import { contractSubjects } from './kits.ts';

/**
 * Status tables, pinned (ADAPTERS.md §5): every documented native value has a
 * recorded sample in the adapter's kit, and that sample normalizes to exactly
 * the kit's CiStatus and wait reason, never "one of".
 */
const subjects = await contractSubjects();

describe.each(subjects)('status tables: $provider', ({ kit }) => {
  it('should pin every documented native value of every table', () => {
    for (const [table, values] of Object.entries(kit.statuses.tables)) {
      const pinned = new Set(kit.statuses.samples.filter((s) => s.table === table).map((s) => s.value));
      expect(values.filter((v) => !pinned.has(v)), `unpinned values of ${table}`).toEqual([]);
    }
    expect(kit.statuses.samples.length).toBeGreaterThan(0);
  });

  it.each(kit.statuses.samples.map((s) => [`${s.table} = ${s.value}`, s] as const))('%s maps exactly', (_, sample) => {
    const entity = sample.normalize('contract');
    expect(entity.type === 'Pipeline' || entity.type === 'Job').toBe(true);
    if (entity.type !== 'Pipeline' && entity.type !== 'Job') return;
    expect({ status: entity.status, waitReason: entity.waitReason }).toEqual(sample.expected);
    // ADAPTERS.md §5: waitReason is set if and only if the status is WAITING.
    expect(entity.waitReason !== null).toBe(entity.status === 'WAITING');
  });
});
