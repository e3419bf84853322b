/**
 * Defensive readers for upstream JSON. Normalizers are total: a wrong type or
 * a missing optional field becomes null, never an exception.
 */
export { asRecord, str, nonEmpty, int, bool, type Loose } from '../../src/adapter-kit/fields.ts';

/** A GitHub numeric id (number, bigint or digit string) as a canonical string. */
export function idString(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'bigint' && value > 0n) return value.toString();
  if (typeof value === 'string' && /^[1-9][0-9]{0,19}$/.test(value)) return value;
  return null;
}

/** Timestamps are normalized to UTC ISO-8601 (GitHub step times carry offsets). */
export function isoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** Milliseconds for revisions; 0 when absent so a revision is always finite. */
export function timeMs(value: unknown): number {
  if (typeof value !== 'string') return 0;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : 0;
}

export function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A required id was missing: the payload cannot name an entity. */
export class GithubPayloadError extends Error {
  override readonly name = 'GithubPayloadError';
  constructor(readonly entity: string, readonly field: string) {
    super(`GitHub ${entity} payload has no usable ${field}`);
  }
}
