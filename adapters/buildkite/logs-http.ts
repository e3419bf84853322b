import { httpFailureToUpstreamError } from '../../src/adapter-kit/upstream-errors.ts';
import type { RateLimitWait } from '../../src/adapter-kit/rate-limit-wait.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';
import { messageOf, rateLimitWaitMs } from './action-client.ts';

/**
 * Reads one job log's raw bytes from a byte offset, with the READ token (a read: never the write
 * token). `GET …/jobs/{id}/log.txt` is the raw log (reference §1.3). From an offset above 0 it
 * first asks `Range: bytes=<offset>-`, so a live tail costs the new bytes only:
 * - 206 with `Content-Range: bytes <start>-<end>/<size>`: the bytes from `start` (cut at the offset);
 * - 416: nothing at or past the offset (the log is not longer yet);
 * - 200: the range was ignored (or offset 0): the whole log, cut at the offset here. The client then
 *   remembers it and reads later tails the documented way: `HEAD` for the size, and only when the
 *   log grew past the offset, `Range: bytes=-<n>` for the suffix (viaSuffix);
 * - 404: no such job or no log → null.
 * A redirect (a log stored elsewhere) is followed by hand: with the token only to the backend's own
 * origin, without it anywhere else (ADAPTERS.md §14: a credential never leaves for another host).
 * 401/403 are UPSTREAM_UNAUTHORIZED; a 403 says the token needs `read_build_logs`, the scope Buildkite
 * requires for logs on top of `read_builds` (so builds read fine while logs do not).
 */
export interface LogClientOptions {
  readonly backend: string;
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly now: () => Date;
  /** The read client's wait, shared: the per-user limit counts every request of the read token. */
  readonly rateLimit: RateLimitWait;
  readonly fetch?: typeof fetch;
}

const MAX_REDIRECTS = 3;

export class BuildkiteLogClient {
  readonly stats = { requests: 0 };
  /** Learned from a 200 to `bytes=<offset>-`: this upstream serves only suffix ranges (`bytes=-N`, reference §1.3). */
  private openRangesIgnored = false;

  constructor(private readonly opts: LogClientOptions) {}

  async bytesFrom(path: string, offset: number, signal: AbortSignal): Promise<Uint8Array | null> {
    this.opts.rateLimit.check('GET', path);
    if (offset > 0 && this.openRangesIgnored) return this.viaSuffix(path, offset, signal);
    const res = await this.request('GET', path, offset > 0 ? `bytes=${offset}-` : null, signal);
    if (offset > 0 && res.status === 200) this.openRangesIgnored = true;
    return this.answer(res, path, offset);
  }

  /**
   * The documented way to read a growing log's tail: `HEAD` for its size ("useful for monitoring
   * log growth"), nothing more when it has not grown past `offset`, else `Range: bytes=-<size -
   * offset>`. Content-Range says where the answer starts; a log that grew between the two requests
   * starts after `offset`, so the suffix is asked once more from the size it reports.
   */
  private async viaSuffix(path: string, offset: number, signal: AbortSignal): Promise<Uint8Array | null> {
    const head = await this.request('HEAD', path, null, signal);
    const size = Number(head.headers.get('content-length'));
    if (head.status !== 200 || !Number.isSafeInteger(size)) return head.status === 200 ? this.answer(await this.request('GET', path, null, signal), path, offset) : this.answer(head, path, offset);
    if (size <= offset) return new Uint8Array(0);
    let want = size - offset;
    for (let attempt = 0; ; attempt++) {
      const res = await this.request('GET', path, `bytes=-${want}`, signal);
      const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      if (res.status !== 206 || !range || Number(range[1]) <= offset || attempt >= 1) return this.answer(res, path, offset);
      await res.body?.cancel();
      want = Number(range[2]) - offset;
    }
  }

  /** One request, following redirects by hand (the token only to the backend's own origin). */
  private async request(method: 'GET' | 'HEAD', path: string, range: string | null, signal: AbortSignal): Promise<Response> {
    const origin = new URL(this.opts.baseUrl).origin;
    let url = `${this.opts.baseUrl.replace(/\/+$/, '')}${path}`;
    for (let hop = 0; ; hop++) {
      const res = await this.fetch(method, url, path, range, new URL(url).origin === origin, signal);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location || hop >= MAX_REDIRECTS) return res;
      await res.body?.cancel();
      url = new URL(location, url).toString();
    }
  }

  private async fetch(method: 'GET' | 'HEAD', url: string, path: string, range: string | null, withToken: boolean, signal: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    this.stats.requests++;
    try {
      return await (this.opts.fetch ?? fetch)(url, {
        method,
        headers: {
          accept: 'text/plain',
          'user-agent': 'switchyard',
          ...(withToken ? { authorization: `Bearer ${this.opts.token}` } : {}),
          ...(range ? { range } : {}),
        },
        redirect: 'manual',
        signal: AbortSignal.any([timeout, signal]),
      });
    } catch (error) {
      signal.throwIfAborted();
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'request failed';
      throw this.failure(path, undefined, reason.split(this.opts.token).join('[redacted]'), timeout.aborted, null);
    }
  }

  private async answer(res: Response, path: string, offset: number): Promise<Uint8Array | null> {
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status === 416) {
      await res.body?.cancel();
      return new Uint8Array(0);
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status === 200) return body.slice(Math.min(offset, body.length));
    if (res.status === 206) {
      const start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
      if (!Number.isSafeInteger(start) || start > offset) {
        throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `GET ${path} answered 206 for bytes=${offset}- with Content-Range ${JSON.stringify(res.headers.get('content-range'))}`, { status: 206, method: 'GET', path });
      }
      return body.slice(offset - start);
    }
    const text = new TextDecoder().decode(body);
    const reason = messageOf(safeJson(text), text, res.status).split(this.opts.token).join('[redacted]');
    if (res.status === 403) {
      throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamUnauthorized,
        `GET ${path} forbidden (403): the read token cannot read job logs; it needs Buildkite's read_build_logs scope (Buildkite: ${reason})`,
        { status: 403, method: 'GET', path });
    }
    throw this.failure(path, res.status, reason, false, res.headers);
  }

  private failure(path: string, status: number | undefined, reason: string, timedOut: boolean, headers: Headers | null): UpstreamError {
    const nowMs = this.opts.now().getTime();
    const wait = status === 429 ? rateLimitWaitMs(headers, nowMs) : null;
    if (wait !== null) this.opts.rateLimit.extend(wait);
    return httpFailureToUpstreamError({ backend: this.opts.backend, method: 'GET', path, status, reason, timedOut }, { provider: 'Buildkite', waitMs: () => wait });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
