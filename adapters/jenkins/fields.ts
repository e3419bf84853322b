/**
 * Defensive readers for Jenkins JSON. Normalizers are total: a wrong type or a
 * missing optional field becomes null, never an exception. (The Notification
 * plugin omits null fields, and `tree=` leaves out whatever was not asked for.)
 */
export type Loose = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): Loose | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : null;
}

export function loose(value: unknown): Loose {
  return asRecord(value) ?? {};
}

export function records(value: unknown): Loose[] {
  return Array.isArray(value) ? value.map(asRecord).filter((r): r is Loose => r !== null) : [];
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function int(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

export function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
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
