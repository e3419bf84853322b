import { badInput } from '../../errors.ts';
import type { DeliveryRecord, DeliveryState } from '../notify-context.ts';
import type { Notification } from '../notification.ts';

/** An outbox row as the drivers return it (timestamps as Date or string, jsonb parsed or not). */
export interface OutboxRow {
  readonly id: string;
  readonly sink: string;
  readonly state: string;
  readonly notification: unknown;
  readonly backend: string;
  readonly project_native_id: string | null;
  readonly project_full_name: string | null;
  readonly attempts: number;
  readonly last_status: number | null;
  readonly last_error: string | null;
  readonly created_at: Date | string;
  readonly updated_at: Date | string;
  readonly next_attempt_at: Date | string | null;
  readonly delivered_at: Date | string | null;
}

export function isoOf(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : isoOf(value));

/** A row as resolvers and the worker see it. */
export function recordOf(row: OutboxRow): DeliveryRecord {
  const notification = (typeof row.notification === 'string' ? JSON.parse(row.notification) : row.notification) as Notification;
  const deliveredAt = isoOrNull(row.delivered_at);
  const waiting = row.state === 'pending' || row.state === 'sending';
  return {
    id: row.id,
    sink: row.sink,
    state: row.state as DeliveryState,
    notification,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: isoOf(row.created_at),
    nextAttemptAt: waiting ? isoOrNull(row.next_attempt_at) : null,
    deliveredAt,
    latencyMs: deliveredAt ? Date.parse(deliveredAt) - Date.parse(notification.detectedAt) : null,
  };
}

/** The cursor of a row: opaque to callers (base64url of its sort key). */
export function cursorOf(row: OutboxRow): string {
  return deliveryCursor({ createdAt: isoOf(row.created_at), id: row.id });
}

/** The same cursor from a record (GraphQL gives one per edge). */
export function deliveryCursor(record: Pick<DeliveryRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.id])).toString('base64url');
}

/** The sort key in `after`, or an error naming it. */
export function parseCursor(after: string): readonly [string, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && !Number.isNaN(Date.parse(parsed[0])))
      return [parsed[0], parsed[1]];
  } catch {
    // falls through to the error below
  }
  throw badInput(`notificationDeliveries: "after" is not a cursor this API returned (${after.slice(0, 40)})`);
}
