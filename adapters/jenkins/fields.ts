/**
 * Defensive readers for Jenkins JSON. Normalizers are total: a wrong type or a
 * missing optional field becomes null, never an exception. (The Notification
 * plugin omits null fields, and `tree=` leaves out whatever was not asked for.)
 */
import { asRecord, str, type Loose } from '../../src/adapter-kit/fields.ts';
export { asRecord, loose, str, nonEmpty, int, bool, type Loose } from '../../src/adapter-kit/fields.ts';

export function records(value: unknown): Loose[] {
  return Array.isArray(value) ? value.map(asRecord).filter((r): r is Loose => r !== null) : [];
}

/** Jenkins times are epoch milliseconds; 0 and negatives mean "not known". */
export function msToIso(value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? new Date(value).toISOString() : null;
}

export function ms(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** The short class name of a `_class` value (`hudson.model.Queue$BlockedItem` → `BlockedItem`). */
export function shortClass(value: unknown): string | null {
  const c = str(value);
  if (!c) return null;
  const tail = c.slice(c.lastIndexOf('.') + 1);
  return tail.slice(tail.lastIndexOf('$') + 1) || null;
}

/** A required field was missing: the payload cannot name an entity. */
export class JenkinsPayloadError extends Error {
  override readonly name = 'JenkinsPayloadError';
  constructor(readonly entity: string, readonly field: string) {
    super(`Jenkins ${entity} payload has no usable ${field}`);
  }
}
