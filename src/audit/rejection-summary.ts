import type { AuditLog } from './audit-log.ts';
import type { WebhookAuditEntry } from './audit-record.ts';

/**
 * Audit records of rejected webhook attempts, bounded. Anyone can send them
 * (no credentials needed), so one record each would let a flood fill the disk.
 * Per backend + reason + remote address, the first attempt is written in full;
 * the ones after it are counted, and each interval writes one
 * `webhook-rejections` summary with the count. A key with nothing to report is
 * forgotten, so the next attempt is written in full again. Past `maxKeys`
 * distinct keys (many addresses or names) the rest is counted under `*`.
 */

/** Longest name, path, reason or delivery id kept in an audit record. */
export const AUDIT_TEXT_LIMIT = 200;

/** Cuts attacker-controlled text to {@link AUDIT_TEXT_LIMIT}, saying how much was cut. */
export function clipForAudit(text: string, limit = AUDIT_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}[truncated ${text.length - limit} chars]`;
}

export interface RejectionSummaryOptions {
  /** One summary per key per interval. */
  readonly intervalMs: number;
  /** Distinct keys tracked before the rest is counted together (default 1,000). */
  readonly maxKeys?: number;
  readonly now: () => Date;
}

export interface Rejection {
  /** As named in the URL (clipped). */
  readonly backend: string;
  /** Counted under this name instead, e.g. every unknown backend together (names cost an attacker nothing). */
  readonly groupAs?: string;
  readonly reason: string;
  readonly remoteAddress: string | null;
  readonly verified: boolean;
}

interface Window {
  readonly rejection: Rejection;
  since: Date;
  count: number;
}

const OVERFLOW: Rejection = { backend: '*', reason: '*', remoteAddress: '*', verified: false };

export class RejectionAuditor {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxKeys: number;

  constructor(private readonly audit: AuditLog, private readonly options: RejectionSummaryOptions) {
    this.maxKeys = options.maxKeys ?? 1000;
    this.timer = setInterval(() => this.flush(), options.intervalMs);
    this.timer.unref();
  }

  record(attempt: Rejection): void {
    const rejection: Rejection = { ...attempt, backend: clipForAudit(attempt.backend), reason: clipForAudit(attempt.reason) };
    const key = JSON.stringify([rejection.groupAs ?? rejection.backend, rejection.reason, rejection.remoteAddress, rejection.verified]);
    const open = this.windows.get(key);
    if (open) {
      open.count++;
      return;
    }
    if (this.windows.size >= this.maxKeys) {
      const overflow = this.windows.get('*') ?? { rejection: OVERFLOW, since: this.options.now(), count: 0 };
      overflow.count++;
      this.windows.set('*', overflow);
      return;
    }
    this.windows.set(key, { rejection, since: this.options.now(), count: 0 });
    const entry: WebhookAuditEntry = {
      kind: 'webhook', backend: rejection.backend, deliveryId: null, verified: rejection.verified,
      reason: rejection.reason, effect: 'rejected', entities: 0, remoteAddress: rejection.remoteAddress,
    };
    this.audit.append(entry);
  }

  /** Writes one summary per key with counted attempts; forgets keys that had none. */
  flush(): void {
    const now = this.options.now();
    for (const [key, w] of this.windows) {
      if (w.count === 0) {
        this.windows.delete(key);
        continue;
      }
      this.audit.append({
        kind: 'webhook-rejections', backend: w.rejection.groupAs ?? w.rejection.backend, reason: w.rejection.reason,
        remoteAddress: w.rejection.remoteAddress, verified: w.rejection.verified,
        count: w.count, from: w.since.toISOString(), to: now.toISOString(),
      });
      w.count = 0;
      w.since = now;
    }
  }

  /** Writes what is still counted and stops the timer (before the audit log closes). */
  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.windows.clear();
  }
}
