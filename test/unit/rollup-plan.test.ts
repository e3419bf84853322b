import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketOf, bucketValue, histogramQuantile, MAX_RELATIVE_ERROR } from '../../src/history/analytics/histogram.ts';
import { planRollup, wholeDays } from '../../src/history/rollups/rollup-plan.ts';

const DAY = 86_400_000;
const at = (s: string) => new Date(s);

describe('planRollup', () => {
  it('reads whole clean days from the rollups and the partial ends and dirty days from the rows', () => {
    const plan = planRollup(at('2026-01-01T06:00:00Z'), at('2026-01-05T12:00:00Z'), new Set(['2026-01-03']));
    expect(plan.rolledDays).toEqual(['2026-01-02', '2026-01-04']);
    expect(plan.rawRanges.map(([a, b]) => [a.toISOString(), b.toISOString()])).toEqual([
      ['2026-01-01T06:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
      ['2026-01-05T00:00:00.000Z', '2026-01-05T12:00:00.000Z'],
    ]);
    expect(wholeDays(at('2026-01-01T06:00:00Z'), at('2026-01-02T12:00:00Z'))).toBeNull();
  });

  it('rolled days and raw ranges cover the window exactly once, rolled days whole and clean', () => {
    const base = Date.parse('2026-01-01T00:00:00Z');
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 20 * DAY }), fc.integer({ min: 1, max: 20 * DAY }), fc.array(fc.integer({ min: 0, max: 45 }), { maxLength: 10 }),
      (start, length, dirtyOffsets) => {
        const from = new Date(base + start);
        const to = new Date(base + start + length);
        const dirty = new Set(dirtyOffsets.map((d) => new Date(base + d * DAY).toISOString().slice(0, 10)));
        const plan = planRollup(from, to, dirty);
        const pieces = [
          ...plan.rolledDays.map((d) => [Date.parse(`${d}T00:00:00Z`), Date.parse(`${d}T00:00:00Z`) + DAY] as const),
          ...plan.rawRanges.map(([a, b]) => [a.getTime(), b.getTime()] as const),
        ].sort((x, y) => x[0] - y[0]);
        expect(pieces[0]![0]).toBe(from.getTime());
        expect(pieces.at(-1)![1]).toBe(to.getTime());
        for (let i = 1; i < pieces.length; i++) expect(pieces[i]![0]).toBe(pieces[i - 1]![1]);
        for (const d of plan.rolledDays) expect(dirty.has(d)).toBe(false);
        for (const [a, b] of plan.rawRanges) expect(b.getTime()).toBeGreaterThan(a.getTime());
      },
    ));
  });
});

describe('duration histograms', () => {
  it('a bucket stands for each of its values within MAX_RELATIVE_ERROR', () => {
    fc.assert(fc.property(fc.double({ min: 1.0001, max: 4e10, noNaN: true }), (ms) => {
      expect(Math.abs(bucketValue(bucketOf(ms)) - ms) / ms).toBeLessThanOrEqual(MAX_RELATIVE_ERROR + 1e-12);
    }));
    expect(MAX_RELATIVE_ERROR).toBeLessThan(0.022);
  });

  it('buckets grow with the value', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 4e10, noNaN: true }), fc.double({ min: 0, max: 4e10, noNaN: true }), (a, b) => {
      if (a <= b) expect(bucketOf(a)).toBeLessThanOrEqual(bucketOf(b));
    }));
  });
});

describe('histogramQuantile', () => {
  it('answers the nearest-rank value within MAX_RELATIVE_ERROR, null when empty', () => {
    expect(histogramQuantile([], [], 0.5)).toBeNull();
    fc.assert(fc.property(fc.array(fc.integer({ min: 2, max: 10_000_000 }), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.9, 0.95, 0.99), (values, q) => {
      const sorted = [...values].sort((a, b) => a - b);
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      const histogram = new Map<number, number>();
      for (const v of values) histogram.set(bucketOf(v), (histogram.get(bucketOf(v)) ?? 0) + 1);
      const buckets = [...histogram.keys()].sort((a, b) => a - b);
      const answer = histogramQuantile(buckets, buckets.map((b) => histogram.get(b)!), q)!;
      expect(Math.abs(answer - exact) / exact).toBeLessThanOrEqual(MAX_RELATIVE_ERROR + 1e-12);
    }));
  });
});
