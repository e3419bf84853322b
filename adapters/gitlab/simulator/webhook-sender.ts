/**
 * Delivers GitLab webhooks one at a time, in order, like one project hook:
 * the next delivery starts only after the previous one answered or failed.
 *
 * Headers (doc/user/project/integrations/webhooks.md; shared reference
 * reliability-security-anchors.md §3.2, ci-backends.md §2.6 and §7):
 * `X-Gitlab-Event`, `X-Gitlab-Token` (the secret echoed verbatim),
 * `X-Gitlab-Webhook-UUID` (new on every attempt), `X-Gitlab-Event-UUID`,
 * `Idempotency-Key` (stable across retries and resends), `X-Gitlab-Instance`,
 * `User-Agent: GitLab/<version>`, and, with a signing token, the Standard
 * Webhooks trio `webhook-id` (= Idempotency-Key), `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256("<id>.<ts>.<body>")>`.
 */
import { createHmac } from 'node:crypto';
import { postOnce, SerialQueue } from '../../../sim-kit/webhook-delivery.ts';

export const GITLAB_VERSION = '18.3.0';

export interface Delivery {
  /** The Idempotency-Key: stable across redeliveries. */
  readonly id: string;
  /** `Pipeline Hook` or `Job Hook`. */
  readonly event: string;
  /** X-Gitlab-Webhook-UUID of this attempt (new on every attempt). */
  readonly attemptId: string;
  readonly status: number | 'error';
  readonly body: string;
  readonly headers: Record<string, string>;
  /** True for a manual resend (same Idempotency-Key and body as an earlier delivery). */
  readonly redelivery: boolean;
}

export interface WebhookTarget {
  readonly url: string;
  readonly token: string;
  /** `whsec_<base64>`: adds Standard Webhooks signature headers. */
  readonly signingToken?: string;
}

export interface WebhookSenderOptions {
  readonly target: WebhookTarget;
  /** Instance URL for X-Gitlab-Instance. */
  readonly instance: () => string;
  readonly now: () => Date;
  /** Source of per-attempt UUIDs (deterministic under a seed). */
  readonly uuid: () => string;
  readonly timeoutMs?: number;
}

/**
 * Standard Webhooks v1 signature: base64 HMAC-SHA256 over `<id>.<timestamp>.<body>`
 * keyed with the base64-decoded part of a `whsec_` secret (a secret without the
 * prefix is used as base64 too, as the reference libraries do).
 */
export function standardWebhookSignature(secret: string, id: string, timestamp: number | string, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private readonly queue = new SerialQueue();

  constructor(private readonly options: WebhookSenderOptions) {}

  /** Queues a delivery; resolves with its HTTP status (or 'error') once sent. */
  enqueue(idempotencyKey: string, eventUuid: string, event: string, body: string): Promise<number | 'error'> {
    return this.chain(idempotencyKey, eventUuid, event, body, false);
  }

  /** A resend: same body and Idempotency-Key / X-Gitlab-Event-UUID, a new X-Gitlab-Webhook-UUID and timestamp. */
  redeliver(id: string): Promise<number | 'error'> {
    const original = this.deliveries.find((d) => d.id === id);
    if (!original) return Promise.reject(new Error(`unknown delivery ${id}`));
    return this.chain(id, original.headers['X-Gitlab-Event-UUID'] ?? id, original.event, original.body, true);
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }

  private headers(id: string, eventUuid: string, event: string, body: string): { attemptId: string; headers: Record<string, string> } {
    const { target } = this.options;
    const attemptId = this.options.uuid();
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': `GitLab/${GITLAB_VERSION}`,
      'X-Gitlab-Event': event,
      'X-Gitlab-Webhook-UUID': attemptId,
      'X-Gitlab-Event-UUID': eventUuid,
      'X-Gitlab-Instance': this.options.instance(),
      'Idempotency-Key': id,
      'X-Gitlab-Token': target.token,
    };
    if (target.signingToken) {
      const ts = Math.floor(this.options.now().getTime() / 1000);
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(ts);
      headers['webhook-signature'] = standardWebhookSignature(target.signingToken, id, ts, body);
    }
    return { attemptId, headers };
  }

  private chain(id: string, eventUuid: string, event: string, body: string, redelivery: boolean): Promise<number | 'error'> {
    return this.queue.run(async () => {
      // Headers are built at send time: the timestamp and attempt UUID belong to the attempt.
      const { attemptId, headers } = this.headers(id, eventUuid, event, body);
      // GitLab.com gives receivers 10 s.
      const status = await postOnce(this.options.target.url, headers, body, this.options.timeoutMs ?? 10_000);
      this.deliveries.push({ id, event, attemptId, status, body, headers, redelivery });
      return status;
    });
  }
}
