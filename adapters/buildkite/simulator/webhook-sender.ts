/**
 * Delivers Buildkite webhooks (Notification Services → Webhook) one at a time
 * in order per target: `X-Buildkite-Event`, and either
 * `X-Buildkite-Signature: timestamp=<unix>,signature=<hex HMAC-SHA256 of
 * "<timestamp>.<body>">` or the plain `X-Buildkite-Token`. Buildkite documents
 * no delivery id and no retries, so neither is sent. Keeps a delivery log for
 * assertions.
 */
import { createHmac } from 'node:crypto';
import { postOnce, SerialQueue } from '../../../sim-kit/webhook-delivery.ts';

export interface WebhookTarget {
  readonly url: string;
  readonly mode: 'signature' | 'token';
  readonly secret: string;
  /** Events this webhook subscribes to (default: every event). */
  readonly events?: readonly string[];
}

export interface Delivery {
  readonly url: string;
  readonly event: string;
  readonly status: number | 'error';
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** The signature header value for `body` sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `timestamp=${timestamp},signature=${signature}`;
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private readonly targets: { target: WebhookTarget; queue: SerialQueue }[] = [];

  constructor(private readonly now: () => Date, private readonly timeoutMs = 10_000) {}

  add(target: WebhookTarget): void {
    this.targets.push({ target, queue: new SerialQueue() });
  }

  clear(): void {
    this.targets.length = 0;
  }

  get size(): number {
    return this.targets.length;
  }

  /** Queues `body` (or the target's own, e.g. ping's settings.url) for every target subscribed to `event`; resolves once each was sent. */
  send(event: string, bodyOf: string | ((target: WebhookTarget) => string)): Promise<void> {
    const sends = this.targets
      .filter(({ target }) => !target.events || event === 'ping' || target.events.includes(event))
      .map(({ target, queue }) => queue.run(async () => {
        const body = typeof bodyOf === 'string' ? bodyOf : bodyOf(target);
        // The timestamp is the dispatch time, not the event time.
        const timestamp = Math.floor(this.now().getTime() / 1000);
        const headers: Record<string, string> = {
          'Content-Type': 'application/json',
          'X-Buildkite-Event': event,
          ...(target.mode === 'signature'
            ? { 'X-Buildkite-Signature': signatureHeader(target.secret, timestamp, body) }
            : { 'X-Buildkite-Token': target.secret }),
        };
        const status = await postOnce(target.url, headers, body, this.timeoutMs);
        this.deliveries.push({ url: target.url, event, status, body, headers });
      }));
    return Promise.all(sends).then(() => undefined);
  }

  async drain(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.queue.drain()));
  }
}
