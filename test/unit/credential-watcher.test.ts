import { afterEach, describe, expect, it, vi } from 'vitest';
import { CredentialWatcher, type CredentialEnd } from '../../src/auth/credential-watcher.ts';
import { ALL_SCOPE } from '../../src/auth/scope.ts';
import type { Identity } from '../../src/auth/types.ts';

const identity = (over: Partial<Identity>): Identity => ({ id: 'key:a', kind: 'api-key', expiresAt: null, scope: ALL_SCOPE, ...over });

describe('CredentialWatcher', () => {
  afterEach(() => vi.useRealTimers());

  it('should end a revoked stream when a reload is pushed, with no timer to wait for', () => {
    vi.useFakeTimers();
    let revoked = false;
    const watcher = new CredentialWatcher(() => new Date());
    const ends: CredentialEnd[] = [];
    watcher.watch(identity({ isRevoked: () => revoked }), (why) => ends.push(why));
    revoked = true;
    // No timer may be pending: revocation is pushed, not polled.
    expect(vi.getTimerCount()).toBe(0);
    watcher.recheck();
    expect(ends).toEqual(['revoked']);
    expect(watcher.size).toBe(0);
  });

  it('should end each stream at its own expiry with one timer for all of them', () => {
    vi.useFakeTimers({ now: 0 });
    const watcher = new CredentialWatcher(() => new Date());
    const ends: string[] = [];
    watcher.watch(identity({ id: 'late', expiresAt: new Date(5_000) }), (why) => ends.push(`late ${why}`));
    watcher.watch(identity({ id: 'early', expiresAt: new Date(1_000) }), (why) => ends.push(`early ${why}`));
    const stop = watcher.watch(identity({ id: 'stopped', expiresAt: new Date(2_000) }), (why) => ends.push(`stopped ${why}`));
    expect(vi.getTimerCount()).toBe(1);
    stop();
    vi.advanceTimersByTime(1_000);
    expect(ends).toEqual(['early expired']);
    vi.advanceTimersByTime(4_000);
    expect(ends).toEqual(['early expired', 'late expired']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should watch nothing for a credential that neither expires nor can be revoked', () => {
    const watcher = new CredentialWatcher(() => new Date());
    watcher.watch(identity({ kind: 'anonymous' }), () => undefined);
    expect(watcher.size).toBe(0);
  });
});
