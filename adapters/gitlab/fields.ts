/**
 * Defensive readers for GitLab JSON. Normalizers are total: a wrong type or a
 * missing optional field becomes null, never an exception; only a missing id
 * (nothing to name the entity by) throws GitlabPayloadError.
 */
export { asRecord, loose, str, nonEmpty, int, bool, type Loose } from '../../src/adapter-kit/fields.ts';

/** A GitLab numeric id (positive number or digit string) as a canonical string. */
export function idString(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^[1-9][0-9]{0,19}$/.test(value)) return value;
  return null;
}

/**
 * GitLab timestamps come as REST ISO-8601 (`2024-01-01T10:00:00.123Z`, or with
 * an offset) and as hook strings (`2016-08-12 15:23:28 UTC`, or `+0200`).
 * Both normalize to UTC ISO-8601.
 */
export function parseTimeMs(value: unknown): number | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  let t = Date.parse(value);
  if (!Number.isFinite(t)) {
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?(UTC|Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
    if (!m) return null;
    const zone = m[3] === undefined || m[3] === 'UTC' || m[3] === 'Z' ? 'Z' : m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
    t = Date.parse(`${m[1]}T${m[2]}${zone}`);
  }
  return Number.isFinite(t) ? t : null;
}

export function isoTime(value: unknown): string | null {
  const t = parseTimeMs(value);
  return t === null ? null : new Date(t).toISOString();
}

/** Whole seconds (hooks have second precision, REST milliseconds): 0 when absent. */
export function timeSec(...values: unknown[]): number {
  let max = 0;
  for (const v of values) {
    const t = parseTimeMs(v);
    if (t !== null) max = Math.max(max, Math.floor(t / 1000));
  }
  return max;
}

export function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A required id was missing: the payload cannot name an entity. */
export class GitlabPayloadError extends Error {
  override readonly name = 'GitlabPayloadError';
  constructor(readonly entity: string, readonly field: string) {
    super(`GitLab ${entity} payload has no usable ${field}`);
  }
}
