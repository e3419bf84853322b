/**
 * Delivers signed webhooks one at a time, in order, like a single GitHub
 * hook: the next delivery starts only after the previous one answered or
 * failed. Keeps a delivery log for redelivery and assertions.
 */
import { createHmac } from 'node:crypto';
import { postOnce, SerialQueue } from '../../../sim-kit/webhook-delivery.ts';

export interface Delivery {
  readonly id: string;
  readonly event: string;
  readonly action: string;
  readonly status: number | 'error';
  readonly body: string;
  readonly headers: Record<string, string>;
  /** True for a manual redelivery (same id and body as an earlier delivery). */
  readonly redelivery: boolean;
}

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookSenderOptions {
  readonly target: WebhookTarget;
  readonly hookId: number;
  readonly installationTargetId: number;
  /** GitHub gives receivers 10 s before it records the delivery as failed. */
  readonly timeoutMs?: number;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private readonly queue = new SerialQueue();

  constructor(private readonly options: WebhookSenderOptions) {}

  /** Queues a delivery; resolves with its HTTP status (or 'error') once sent. */
  enqueue(id: string, event: string, action: string, body: string): Promise<number | 'error'> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/sim',
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': id,
      'X-GitHub-Hook-ID': String(this.options.hookId),
      'X-GitHub-Hook-Installation-Target-ID': String(this.options.installationTargetId),
      'X-GitHub-Hook-Installation-Target-Type': 'organization',
      'X-Hub-Signature-256': signature(this.options.target.secret, body),
    };
    return this.chain(id, event, action, body, headers, false);
  }

  /** GitHub redelivery: same body, same X-GitHub-Delivery, fresh attempt. */
  redeliver(id: string): Promise<number | 'error'> {
    const original = this.deliveries.find((d) => d.id === id);
    if (!original) return Promise.reject(new Error(`unknown delivery ${id}`));
    return this.chain(id, original.event, original.action, original.body, { ...original.headers }, true);
  }

  /** Resolves when every queued delivery has finished. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  private chain(
    id: string, event: string, action: string, body: string, headers: Record<string, string>, redelivery: boolean,
  ): Promise<number | 'error'> {
    return this.queue.run(async () => {
      // GitHub gives receivers 10 s before it records the delivery as failed.
      const status = await postOnce(this.options.target.url, headers, body, this.options.timeoutMs ?? 10_000);
      this.deliveries.push({ id, event, action, status, body, headers, redelivery });
      return status;
    });
  }
}
