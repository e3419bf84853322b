/** Collects positional parameters while a statement is built: `add(v)` answers `$n`. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/** A built statement: pure data, run by whoever holds a store. */
export interface SqlQuery {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The statuses the figures sort finished entities into. */
export const RED_STATUSES = ['FAILURE', 'TIMED_OUT', 'ERROR'] as const;
export const RED_SQL = `('FAILURE', 'TIMED_OUT', 'ERROR')`;
/** The provider's own words for a failure: its failure reason, else its conclusion or status. */
export const REASON_SQL = 'COALESCE(failure_reason, native_conclusion, native_status, status)';
export const CATEGORY_SQL = `CASE status WHEN 'FAILURE' THEN 'CODE' WHEN 'TIMED_OUT' THEN 'TIMED_OUT' ELSE 'INFRASTRUCTURE' END`;

/** Numbers from either driver (bigint may come as a string) or null. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

export function rate(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
