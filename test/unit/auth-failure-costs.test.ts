import { describe, expect, it } from 'vitest';
import { createApiKey, createApiKeyVerifier, scryptCounter, type ConfiguredApiKey } from '../../src/auth/api-keys.ts';
import { addressKey, AuthFailureLimiter } from '../../src/auth/failure-limiter.ts';
import { HashingGate } from '../../src/auth/hashing-gate.ts';
import { isAuthError, type AuthError, type Identity } from '../../src/auth/types.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const bogus = (i: number) => `sy_ci-bot_${String(i).padStart(43, 'x')}`;
const codeOf = (r: Identity | AuthError) => (isAuthError(r) ? r.code : 'OK');

describe('the cost of failed API keys', async () => {
  const bot = await createApiKey('ci-bot');
  const keys: ConfiguredApiKey[] = [{ id: 'ci-bot', hash: bot.hash, scopes: [{ backends: ['*'] }] }];

  it('should remember a failed key so repeating it costs no scrypt, until the config changes under it', async () => {
    const verifier = createApiKeyVerifier();
    const before = scryptCounter.runs;
    for (let i = 0; i < 20; i++) expect(codeOf(await verifier.verify(bogus(1), keys, NOW))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await verifier.verify('sy_ghost_' + 'a'.repeat(43), keys, NOW))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await verifier.verify('sy_ghost_' + 'a'.repeat(43), keys, NOW))).toBe('INVALID_CREDENTIALS');
    expect(scryptCounter.runs - before).toBe(2);
    expect(verifier.stats).toMatchObject({ failedHits: 20, misses: 2 });
    // The ghost id now exists: the remembered failure no longer applies.
    const ghost = await createApiKey('ghost');
    const after = scryptCounter.runs;
    expect(codeOf(await verifier.verify('sy_ghost_' + 'a'.repeat(43), [...keys, { id: 'ghost', hash: ghost.hash, scopes: [{ backends: ['*'] }] }], NOW))).toBe('INVALID_CREDENTIALS');
    expect(scryptCounter.runs - after).toBe(1);
    // The valid key is unaffected.
    expect(codeOf(await verifier.verify(bot.key, keys, NOW))).toBe('OK');
  });

  it('should cap concurrent scrypt work and refuse past the queue (AUTH_BUSY, 503)', async () => {
    const verifier = createApiKeyVerifier({ gate: new HashingGate(1, 2) });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => verifier.verify(bogus(100 + i), keys, NOW)));
    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(3);
    expect(codes.filter((c) => c === 'AUTH_BUSY')).toHaveLength(3);
    expect((results.find((r) => codeOf(r) === 'AUTH_BUSY') as AuthError)).toMatchObject({ status: 503, retryAfterSeconds: 1 });
  });

  it('should run at most maxConcurrent tasks at once', async () => {
    const gate = new HashingGate(2, 100);
    let running = 0;
    let peak = 0;
    let release: () => void = () => undefined;
    const barrier = { promise: new Promise<void>((r) => (release = r)) };
    const tasks = Array.from({ length: 6 }, () => gate.run(async () => {
      peak = Math.max(peak, ++running);
      await barrier.promise;
      running--;
    }));
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(2);
    release();
    await Promise.all(tasks);
    expect(peak).toBe(2);
  });
});

describe('failed authentications per address', () => {
  it('should refuse an address past maxFailures until its window ends, and count only presented credentials', () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter({ maxFailures: 3, windowSeconds: 60 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.check('10.0.0.1')).toBeNull();
      limiter.recordFailure('10.0.0.1', 'INVALID_CREDENTIALS');
      limiter.recordFailure('10.0.0.1', 'MISSING_CREDENTIALS');
    }
    const refused = limiter.check('10.0.0.1');
    expect(refused).toMatchObject({ code: 'TOO_MANY_FAILURES', status: 429, retryAfterSeconds: 60 });
    expect(limiter.check('::ffff:10.0.0.1')?.code).toBe('TOO_MANY_FAILURES');
    expect(limiter.check('10.0.0.2')).toBeNull();
    now += 30_000;
    expect(limiter.check('10.0.0.1')?.retryAfterSeconds).toBe(30);
    now += 30_000;
    expect(limiter.check('10.0.0.1')).toBeNull();
  });

  it('should group IPv6 addresses by /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(addressKey(null)).toBe('?');
  });
});
