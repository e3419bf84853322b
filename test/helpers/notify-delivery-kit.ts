import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notificationId, type Notification } from '../../src/notify/notification.ts';
import type { NotificationSink, SendOutcome } from '../../src/notify/sink.ts';
import { notificationsConfigSchema, type NotificationsConfig } from '../../src/notify/notify-config.ts';

/** A notification about a project's pipeline (only what the outbox looks at is varied). */
export function testNotification(dedupeKey: string, over: Partial<Notification> = {}): Notification {
  return {
    id: notificationId(dedupeKey), dedupeKey, trigger: 'failed', rule: 'main-broken', category: 'code',
    occurredAt: '2026-01-01T10:00:00.000Z', detectedAt: new Date().toISOString(), backend: 'gh', provider: 'github',
    project: { id: 'UHJvamVjdDpnaA', nativeId: 'acme/web', fullName: 'acme/web', url: null },
    pipeline: null, job: null, previous: null, red: null, pool: null, backendHealth: null, lifecycle: 'finished',
    summary: `acme/web main: CI failed (${dedupeKey})`, ...over,
  };
}

/** One request a receiver saw, with when it arrived (the receiver's clock). */
export interface Received {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly at: number;
}

/** What the receiver answers a request: a status (and headers), or `hang` (never answers). */
export type Answer = { readonly status: number; readonly headers?: Record<string, string> } | 'hang';

/** A loopback HTTP receiver recording every request; `answer` decides the response (200 by default). */
export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  answer: (r: Received) => Answer;
  /** Resolves once `predicate` holds for what was received (checked at each request). */
  until(predicate: (received: readonly Received[]) => boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const waiters: { predicate: (r: readonly Received[]) => boolean; resolve: () => void }[] = [];
  const hung: ServerResponse[] = [];
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200 }),
    until(predicate) {
      if (predicate(receiver.received)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { deliveryId: String(req.headers['webhook-id']), attempt: Number(req.headers['x-attempt']), at: Date.now() };
      receiver.received.push(r);
      const answer = receiver.answer(r);
      if (answer === 'hang') hung.push(res);
      else {
        res.writeHead(answer.status, answer.headers ?? {});
        res.end();
      }
      for (const w of [...waiters]) if (w.predicate(receiver.received)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (receiver as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

/** A tiny webhook sink (the real ones live in src/notify/sinks): POSTs the message, maps the answer to a SendOutcome. */
export function httpTestSink(name: string, url: string): NotificationSink {
  return {
    name,
    type: 'webhook',
    describe: () => `webhook ${url}`,
    async send(delivery, signal): Promise<SendOutcome> {
      try {
        const res = await fetch(url, {
          method: 'POST', signal, body: JSON.stringify(delivery.notification),
          headers: { 'content-type': 'application/json', 'webhook-id': delivery.deliveryId, 'x-attempt': String(delivery.attempt) },
        });
        await res.arrayBuffer();
        if (res.ok) return { ok: true, status: res.status };
        const retryAfter = res.headers.get('retry-after');
        const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        return {
          ok: false, kind: retryable ? 'retry' : 'permanent', status: res.status, error: `${url} answered ${res.status}`,
          ...(retryAfter !== null && retryable ? { retryAfterMs: Number(retryAfter) * 1000 } : {}),
        };
      } catch (error) {
        return { ok: false, kind: 'retry', status: null, error: `${url}: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}

/** A notifications config with webhook sinks of these names (limits per sink overridable) and a delivery policy. */
export function testNotificationsConfig(
  sinks: Record<string, { concurrency?: number; ratePerMinute?: number; timeoutSeconds?: number }>,
  delivery: Partial<NotificationsConfig['delivery']> = {},
): NotificationsConfig {
  return notificationsConfigSchema.parse({
    sinks: Object.entries(sinks).map(([name, limits]) => ({ type: 'webhook', name, url: 'http://127.0.0.1/hook', secret: { value: 'whsec_dGVzdA==' }, ratePerMinute: 60_000, ...limits })),
    delivery: { initialBackoffSeconds: 0.02, maxBackoffSeconds: 0.1, ...delivery },
  });
}
