/**
 * Defensive readers for upstream JSON, shared by every adapter. Normalizers
 * are total: a wrong type or a missing optional field becomes null, never an
 * exception.
 */
export type Loose = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): Loose | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : null;
}

export function loose(value: unknown): Loose {
  return asRecord(value) ?? {};
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
