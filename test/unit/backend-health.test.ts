import { describe, expect, it } from 'vitest';
import { BackendHealth } from '../../src/health.ts';
import { UpstreamError } from '../../src/errors.ts';

const upstream = (status: number) => new UpstreamError('gh', 'UPSTREAM_UNAVAILABLE', `HTTP ${status}`, { status });

describe('BackendHealth', () => {
  it('counts one upstream failure once, however many layers report it', () => {
    const health = new BackendHealth(() => new Date(0));
    for (let query = 0; query < 2; query++) {
      const error = upstream(502);
      health.failure(error); // the adapter's client
      health.failure(error); // the loader that caught it
      health.failure(error); // the resolver reporting the partial result
    }
    expect(health.current.state).toBe('DEGRADED');
  });

  it('is DOWN after three distinct failures in a row, and OK after a success', () => {
    const health = new BackendHealth(() => new Date(0));
    health.failure(upstream(502));
    health.failure(upstream(503));
    expect(health.current.state).toBe('DEGRADED');
    health.failure(new Error('socket hang up'));
    expect(health.current.state).toBe('DOWN');
    health.success();
    expect(health.current.state).toBe('OK');
  });
});
