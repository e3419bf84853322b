import type { SendOutcome } from '../sink.ts';
import { outcomeFromError, outcomeFromStatus } from './http-outcome.ts';

/**
 * POSTs one JSON body and maps the answer (http-outcome.ts). Never throws; `signal` cuts a hung
 * receiver off, body included. Redirects are not followed: a webhook that moved is a config to fix,
 * and following one would send the message (and its signature) somewhere nobody configured.
 */
/** How much of a receiver's answer is read: enough for its error message. */
export const ERROR_BODY_BYTES = 4096;

export async function postJson(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<SendOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'switchyard-notify', ...headers },
      body,
      redirect: 'manual',
      signal,
    });
    const text = await readSome(response, ERROR_BODY_BYTES);
    return outcomeFromStatus(response.status, response.headers.get('retry-after'), text);
  } catch (error) {
    return outcomeFromError(error, signal);
  }
}

/** The worker's signal, and this sink's own `timeoutSeconds` too: whichever fires first (a worker that forgets a timeout still never waits forever). */
export function attemptSignal(signal: AbortSignal, timeoutSeconds: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(Math.round(timeoutSeconds * 1000))]);
}

/** The start of a receiver's answer (for the error message), then the rest is dropped: a receiver may answer with megabytes. */
export async function readSome(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < maxBytes) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
