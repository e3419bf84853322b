/**
 * Outbound webhook plumbing for the CI-system simulators: a queue that sends
 * one delivery at a time in order (like a single hook: the next starts only
 * after the previous answered or failed), and a one-shot POST that reports the
 * receiver's HTTP status or 'error'. What is sent (headers, signatures,
 * bodies, the delivery log) stays with each simulator.
 */
import http from 'node:http';
import https from 'node:https';

/** Runs jobs one after another in submission order; a failed job does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `job`; resolves (or rejects) with its result once it has run. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every queued job has finished, including jobs queued while waiting. */
  async drain(): Promise<void> {
    let seen: Promise<unknown> | undefined;
    while (seen !== this.tail) {
      seen = this.tail;
      await seen;
    }
  }
}

/**
 * POSTs `body` to `url` (http or https) without keep-alive (`agent: false`, so
 * no socket outlives the simulator). Resolves with the response status once the
 * response has been read, or 'error' when the receiver could not be reached,
 * failed mid-response or did not answer within `timeoutMs`. Never rejects.
 */
export function postOnce(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number | 'error'> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const payload = Buffer.from(body);
  return new Promise((resolve) => {
    const req = client.request(target, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'Content-Length': String(payload.length) },
      timeout: timeoutMs,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 'error'));
      res.on('error', () => resolve('error'));
    });
    req.on('timeout', () => req.destroy(new Error('delivery timed out')));
    req.on('error', () => resolve('error'));
    req.end(payload);
  });
}

/**
 * A manual redelivery for a simulator's control API: resolves with the
 * receiver's HTTP status; rejects when no webhook is configured or the
 * receiver could not be reached.
 */
export async function redeliverOrThrow(
  sender: { redeliver(id: string): Promise<number | 'error'> } | undefined, id: string,
): Promise<number> {
  if (!sender) throw new Error('no webhook configured');
  const status = await sender.redeliver(id);
  if (status === 'error') throw new Error(`redelivery of ${id} failed to connect`);
  return status;
}
