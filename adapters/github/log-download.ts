/**
 * The second GET of a job log: the signed, short-lived URL GitHub redirected to, on a storage
 * host that is not GitHub's API. It is sent with NO credential (the URL's signature is the
 * authorization, and the token must never leave for another host), with the read's signal.
 */
import { clipReason } from '../../src/adapter-kit/upstream-errors.ts';
import { ErrorCode, UpstreamError, type UpstreamErrorCode } from '../../src/errors.ts';

export interface DownloadDeps {
  readonly backend: string;
  readonly timeoutMs: number;
  /** For tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

export type Download =
  | { readonly kind: 'log'; readonly bytes: Buffer }
  /** 404/410: the storage no longer holds the log (erased, past retention). */
  | { readonly kind: 'gone' }
  /** 403: the signature was refused, almost always because the URL expired (about a minute). */
  | { readonly kind: 'refused'; readonly error: UpstreamError };

/** Storage answers errors in XML (Azure: `<Error><Code>..</Code><Message>..</Message>`): the message, or the status. */
function reasonOf(body: string, status: number): string {
  const message = /<Message>([\s\S]*?)<\/Message>/.exec(body)?.[1] ?? /<Code>([\s\S]*?)<\/Code>/.exec(body)?.[1];
  return clipReason(message ?? `HTTP ${status}`);
}

export async function downloadSignedLog(url: URL, deps: DownloadDeps, signal: AbortSignal): Promise<Download> {
  // Host and path only in messages: the query is the signature.
  const where = `GET ${url.host}${url.pathname} (GitHub's signed log URL)`;
  const fail = (code: UpstreamErrorCode, message: string, status?: number) =>
    new UpstreamError(deps.backend, code, message, { ...(status === undefined ? {} : { status }), method: 'GET', path: url.pathname });
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail(ErrorCode.UpstreamBadResponse, `GitHub redirected the log to a ${url.protocol} URL`);

  const timeout = AbortSignal.timeout(deps.timeoutMs);
  let res: Response;
  try {
    res = await (deps.fetch ?? fetch)(url, {
      method: 'GET',
      // No Authorization, no cookies: only what a signed URL needs.
      headers: { 'user-agent': 'switchyard' },
      credentials: 'omit',
      signal: AbortSignal.any([timeout, signal]),
    });
  } catch (error) {
    signal.throwIfAborted();
    if (timeout.aborted) throw fail(ErrorCode.UpstreamTimeout, `${where} timed out`);
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    throw fail(ErrorCode.UpstreamUnavailable, `${where} failed: ${clipReason(cause instanceof Error ? cause.message : String(cause))}`);
  }
  if (res.ok) return { kind: 'log', bytes: Buffer.from(await res.arrayBuffer()) };
  const reason = reasonOf(await res.text().catch(() => ''), res.status);
  if (res.status === 404 || res.status === 410) return { kind: 'gone' };
  if (res.status === 403) return { kind: 'refused', error: fail(ErrorCode.UpstreamBadResponse, `${where} refused the signature (403): ${reason}`, 403) };
  if (res.status >= 500) throw fail(ErrorCode.UpstreamUnavailable, `${where} answered ${res.status}`, res.status);
  throw fail(ErrorCode.UpstreamBadResponse, `${where} answered ${res.status}: ${reason}`, res.status);
}
