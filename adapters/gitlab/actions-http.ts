import type { ActionCall } from '../../src/adapter-contract.ts';
import { ActionRefusedError } from '../../src/errors.ts';
import { toUpstreamError } from './errors.ts';
import { gitlabMessage, refusalOf } from './actions-refusals.ts';

/**
 * Sends the requests of one action with the write token only (PRIVATE-TOKEN, as the read
 * client does with its own token) and records each with its status. A 4xx is GitLab's
 * refusal: an ActionRefusedError with its reason; transport failures, 429 and 5xx are
 * UpstreamErrors as for reads (the action may or may not have happened).
 */
export interface ActionSenderOptions {
  readonly backend: string;
  readonly baseUrl: string;
  readonly writeToken: string;
  readonly timeoutMs: number;
  readonly now: () => Date;
  readonly fetch?: typeof fetch;
}

export interface ActionResponse {
  readonly status: number;
  readonly data: unknown;
}

export class ActionSender {
  /** Every request sent, in order, with its status (0: no answer). */
  readonly calls: ActionCall[] = [];

  constructor(private readonly opts: ActionSenderOptions, private readonly signal: AbortSignal) {}

  get(path: string): Promise<ActionResponse> {
    return this.send('GET', path);
  }

  post(path: string, body?: unknown): Promise<ActionResponse> {
    return this.send('POST', path, body);
  }

  private async send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ActionResponse> {
    const display = path.split('?')[0]!;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.opts.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'user-agent': 'switchyard',
          'private-token': this.opts.writeToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([timeout, this.signal]),
        redirect: 'error',
      });
      text = await res.text();
    } catch (raw) {
      this.calls.push({ method, path, status: 0 });
      this.signal.throwIfAborted();
      throw toUpstreamError({
        backend: this.opts.backend, method, path: display, status: undefined, headers: undefined,
        reason: this.redact(raw instanceof Error ? raw.message : String(raw)), timedOut: timeout.aborted, nowMs: this.opts.now().getTime(),
      });
    }
    this.calls.push({ method, path, status: res.status });
    let data: unknown = text;
    try {
      data = text.length === 0 ? null : JSON.parse(text);
    } catch {
      // plain text bodies ("Retry later")
    }
    if (res.ok) return { status: res.status, data };
    const message = this.redact(gitlabMessage(data));
    if (res.status === 429 || res.status >= 500) {
      throw toUpstreamError({
        backend: this.opts.backend, method, path: display, status: res.status, headers: res.headers,
        reason: message || `HTTP ${res.status}`, timedOut: false, nowMs: this.opts.now().getTime(),
      });
    }
    const refusal = refusalOf(res.status, message);
    throw new ActionRefusedError(this.opts.backend, refusal.reason, `GitLab refused ${method} ${display} (${res.status}): ${message || 'no reason given'}`, {
      status: res.status, method, path: display, ...(refusal.input !== undefined ? { input: refusal.input } : {}),
    });
  }

  private redact(text: string): string {
    return text.split(this.opts.writeToken).join('[redacted]');
  }
}
