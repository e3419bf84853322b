import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.ts';
import { createBackendPolicy } from '../../src/resilience/backend-policy.ts';

const unavailable = () => new UpstreamError('b', 'UPSTREAM_UNAVAILABLE', 'HTTP 502');

describe('backend policy', () => {
  it('should retry transient failures of a read and succeed', async () => {
    const policy = createBackendPolicy('b');
    let calls = 0;
    const value = await policy.execute(async () => {
      calls++;
      if (calls < 3) throw unavailable();
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(3);
  });

  it('should not retry client errors or rate limits', async () => {
    const policy = createBackendPolicy('b');
    let calls = 0;
    await expect(policy.execute(async () => {
      calls++;
      throw new UpstreamError('b', 'UPSTREAM_UNAUTHORIZED', 'HTTP 401');
    })).rejects.toMatchObject({ code: 'UPSTREAM_UNAUTHORIZED' });
    expect(calls).toBe(1);
  });

  it('should open the circuit after consecutive failures, refuse without calling, then recover through a probe', async () => {
    const policy = createBackendPolicy('b', { attempts: 1, breakerThreshold: 3, halfOpenAfterMs: 100 });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw unavailable();
    };
    for (let i = 0; i < 3; i++) await expect(policy.execute(failing)).rejects.toBeInstanceOf(UpstreamError);
    expect(policy.circuit()).toBe('OPEN');
    const before = calls;
    await expect(policy.execute(failing)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/circuit open/) });
    expect(calls).toBe(before);
    await new Promise((r) => setTimeout(r, 150));
    expect(await policy.execute(async () => 'back')).toBe('back');
    expect(policy.circuit()).toBe('CLOSED');
  });

  it('should send nothing during a rate-limit wait and resume after it', async () => {
    let t = 1_000_000;
    const policy = createBackendPolicy('b', { now: () => t });
    let calls = 0;
    await expect(policy.execute(async () => {
      calls++;
      throw new UpstreamError('b', 'UPSTREAM_RATE_LIMITED', 'HTTP 429', { retryAfterMs: 30_000 });
    })).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
    t += 29_000;
    await expect(policy.execute(async () => (calls++, 'x'))).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 1000 } });
    expect(calls).toBe(1);
    t += 1000;
    expect(await policy.execute(async () => (calls++, 'x'))).toBe('x');
    expect(calls).toBe(2);
  });

  describe('batches, whose failures sit in their slots (issue 10 item 7)', () => {
    it('should count a transient slot failure for the breaker, return the slots unchanged, and not retry the batch', async () => {
      const policy = createBackendPolicy('b', { attempts: 3, breakerThreshold: 2, halfOpenAfterMs: 60_000 });
      let calls = 0;
      const batch = async () => {
        calls++;
        return ['found', unavailable()];
      };
      const first = await policy.executeBatch(batch);
      expect(first[0]).toBe('found');
      expect(first[1]).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
      expect(calls).toBe(1);
      await policy.executeBatch(batch);
      expect(policy.circuit()).toBe('OPEN');
      await expect(policy.executeBatch(batch)).rejects.toMatchObject({ message: expect.stringMatching(/circuit open/) });
      expect(calls).toBe(2);
    });

    it('should start the rate-limit wait from a rate-limited slot', async () => {
      let t = 1_000_000;
      const policy = createBackendPolicy('b', { now: () => t });
      let calls = 0;
      await policy.executeBatch(async () => (calls++, [new UpstreamError('b', 'UPSTREAM_RATE_LIMITED', 'HTTP 429', { retryAfterMs: 5000 })]));
      await expect(policy.executeBatch(async () => (calls++, ['x']))).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
      expect(calls).toBe(1);
      t += 5000;
      expect(await policy.executeBatch(async () => (calls++, ['x']))).toEqual(['x']);
    });
  });
});
