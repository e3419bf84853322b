/**
 * Stands between a webhook sender (the GitHub simulator) and several gateway
 * instances, as GitHub plus a load balancer would: accepts each signed
 * delivery at once, then forwards the deliveries one at a time, in order,
 * unchanged (same body, signature and delivery id), to the live instances in
 * turn. A delivery that fails (connection refused or reset, timeout, 5xx) is
 * redelivered to the next instance until one acknowledges it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RelayedDelivery {
  readonly id: string;
  readonly event: string;
  readonly body: string;
  /** Every attempt: the HTTP status, or 'error' when no answer came. */
  readonly attempts: (number | 'error')[];
}

export interface WebhookRelay {
  /** Where the sender posts. */
  readonly url: string;
  readonly deliveries: readonly RelayedDelivery[];
  /** Resolves when every delivery received so far is acknowledged by an instance. */
  drained(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const FORWARDED = ['content-type', 'user-agent', 'x-github-event', 'x-github-delivery', 'x-github-hook-id',
  'x-github-hook-installation-target-id', 'x-github-hook-installation-target-type', 'x-hub-signature-256'];

/** `targets()` gives the webhook URLs of the instances alive now. */
export async function startWebhookRelay(targets: () => readonly string[], giveUpAfterMs = 60_000): Promise<WebhookRelay> {
  const deliveries: RelayedDelivery[] = [];
  const queue: { delivery: RelayedDelivery; headers: Record<string, string> }[] = [];
  let next = 0;
  let working: Promise<void> | null = null;
  let failure: Error | null = null;
  let closed = false;

  async function forward(item: (typeof queue)[number]): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; !closed; attempt++) {
      const live = targets();
      const url = live.length > 0 ? live[next++ % live.length] : undefined;
      let status: number | 'error' = 'error';
      if (url) {
        try {
          const res = await fetch(url, { method: 'POST', headers: item.headers, body: item.delivery.body, signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 'error';
        }
        item.delivery.attempts.push(status);
      }
      if (typeof status === 'number' && status < 300) return;
      if (Date.now() - started > giveUpAfterMs) throw new Error(`delivery ${item.delivery.id} not acknowledged within ${giveUpAfterMs} ms: ${item.delivery.attempts.join(', ')}`);
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * (attempt + 1))));
    }
  }

  function pump(): void {
    if (working || failure) return;
    working = (async () => {
      while (queue.length > 0 && !closed) {
        await forward(queue[0]!);
        queue.shift();
      }
    })()
      .catch((error: Error) => {
        failure = error;
      })
      .finally(() => {
        working = null;
        if (queue.length > 0 && !failure && !closed) pump();
      });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const name of FORWARDED) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const delivery: RelayedDelivery = {
        id: headers['x-github-delivery'] ?? '', event: headers['x-github-event'] ?? '', body: Buffer.concat(chunks).toString('utf8'), attempts: [],
      };
      deliveries.push(delivery);
      queue.push({ delivery, headers });
      res.writeHead(200).end();
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    async drained(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length > 0 || working) {
        if (failure) throw failure;
        if (Date.now() > deadline) throw new Error(`webhook relay: ${queue.length} deliveries not acknowledged within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (failure) throw failure;
    },
    async close() {
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
