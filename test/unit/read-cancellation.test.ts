import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from '../../src/adapter-kit/concurrency-limit.ts';
import { SharedRequests } from '../../src/adapter-kit/shared-requests.ts';
import { UpstreamError } from '../../src/errors.ts';
import { BackendHealth } from '../../src/health.ts';
import { createBackendPolicy } from '../../src/resilience/backend-policy.ts';

/** A read that never answers on its own and tells when its signal aborted. */
function hangingRead() {
  let abortedWith: unknown;
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const read = (signal: AbortSignal) => new Promise<never>((_, reject) => {
    started();
    signal.addEventListener('abort', () => {
      abortedWith = signal.reason;
      reject(signal.reason);
    }, { once: true });
  });
  return { read, running, abortedWith: () => abortedWith };
}

describe('the policy owns the deadline and counts health once per operation', () => {
  it("should fail with UPSTREAM_TIMEOUT at the deadline and abort the read's signal", async () => {
    const health = new BackendHealth(() => new Date());
    const policy = createBackendPolicy('b', { health });
    const hung = hangingRead();
    await expect(policy.execute(hung.read, { deadlineMs: 50, what: 'loading jobs' }))
      .rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT', message: '[b] loading jobs took longer than 50 ms' });
    expect(hung.abortedWith()).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(health.current).toMatchObject({ state: 'DEGRADED', lastErrorCode: 'UPSTREAM_TIMEOUT' });
  });

  it('should count a read retried three times as one failure, and a 404 or a caller that gave up as none', async () => {
    const health = new BackendHealth(() => new Date());
    const policy = createBackendPolicy('b', { health });
    let calls = 0;
    await expect(policy.execute(async () => {
      calls++;
      throw new UpstreamError('b', 'UPSTREAM_UNAVAILABLE', 'HTTP 502');
    })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(calls).toBe(3);
    expect(health.current.state).toBe('DEGRADED');
    await policy.execute(async () => 'ok');
    expect(health.current.state).toBe('OK');
    await expect(policy.execute(async () => {
      throw new UpstreamError('b', 'UPSTREAM_BAD_RESPONSE', 'gone', { status: 404 });
    })).rejects.toBeInstanceOf(UpstreamError);
    const caller = new AbortController();
    const hung = hangingRead();
    const pending = policy.execute(hung.read, { signal: caller.signal });
    await hung.running;
    caller.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
    expect(health.current.state).toBe('OK');
  });
});

describe('cancellation in the clients\' shared pieces', () => {
  it('should take a queued task out of the concurrency queue when its signal aborts', async () => {
    const limit = new ConcurrencyLimit(1);
    let release!: () => void;
    const first = limit.run(() => new Promise<void>((r) => (release = r)));
    const gaveUp = new AbortController();
    let ranQueued = false;
    const queued = limit.run(async () => {
      ranQueued = true;
    }, gaveUp.signal);
    gaveUp.abort(new Error('deadline'));
    await expect(queued).rejects.toThrow('deadline');
    const next = limit.run(async () => 'next');
    release();
    await first;
    // The task that gave up never runs; the one behind it gets the slot.
    expect(await next).toBe('next');
    expect(ranQueued).toBe(false);
  });

  it('should abort a shared request only when every reader waiting for it gave up', async () => {
    const shared = new SharedRequests<string>();
    const hung = hangingRead();
    const a = new AbortController();
    const b = new AbortController();
    const first = shared.join('k', hung.read, a.signal);
    const second = shared.join('k', hung.read, b.signal);
    a.abort(new Error('a gave up'));
    await expect(first).rejects.toThrow('a gave up');
    expect(hung.abortedWith()).toBeUndefined();
    b.abort(new Error('b gave up'));
    await expect(second).rejects.toThrow('b gave up');
    expect(hung.abortedWith()).toBeInstanceOf(Error);
  });
});
