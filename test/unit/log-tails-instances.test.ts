import { describe, expect, it } from 'vitest';
import { MemoryLogChunkBus } from '../../src/logs/bus/memory-log-bus.ts';
import type { LogChunkBus } from '../../src/logs/log-types.ts';
import { Collector, contiguousFrom, FakeJobs, FakeLogs, logService, runningJob } from '../helpers/fake-logs.ts';

/** Instances on one shared bus whose claim is a real lease (as on Redis), the chunks and interest shared. */
function sharedBus() {
  const chunks = new MemoryLogChunkBus(1 << 20);
  const holders = new Map<string, { owner: string; until: number }>();
  const claims: string[] = [];
  const instance = (id: string): LogChunkBus => ({
    claim: (key, leaseMs) => {
      const held = holders.get(key);
      const now = Date.now();
      const granted = !held || held.until <= now || held.owner === id;
      if (granted) holders.set(key, { owner: id, until: now + leaseMs });
      if (granted && held?.owner !== id) claims.push(id);
      return Promise.resolve(granted);
    },
    release: (key) => {
      if (holders.get(key)?.owner === id) holders.delete(key);
      return Promise.resolve();
    },
    publish: (key, chunk) => chunks.publish(key, chunk),
    follow: (key, from, signal) => chunks.follow(key, from, signal),
    markInterest: (key, ttlMs) => chunks.markInterest(key, ttlMs),
    hasInterest: (key) => chunks.hasInterest(key),
    close: () => Promise.resolve(),
  });
  return { instance, claims };
}

describe('LogTails across instances', () => {
  it('polls upstream on the claim holder only; a follower serves its watchers from the bus and takes over where it left off', async () => {
    const logs = new FakeLogs();
    logs.gated = true;
    const jobs = new FakeJobs();
    const bus = sharedBus();
    // A short lease: maxPoll 50 ms and a 100 ms read deadline give 200 ms.
    const options = { jobs, timeoutMs: 100, config: { maxPollIntervalSeconds: 0.05 } };
    const a = logService(logs, { ...options, bus: bus.instance('a') });
    const b = logService(logs, { ...options, bus: bus.instance('b') });
    const job = runningJob();
    const stopA = new AbortController();
    const onA = new Collector(a.watch(job, null, { identity: 'x', signal: stopA.signal }));
    await logs.step(() => logs.append('one\n'));
    await onA.received(1);
    const onB = new Collector(b.watch(job, null, { identity: 'y', signal: new AbortController().signal }));
    await onB.received(1);
    await logs.step(() => logs.append('two\n'));
    await onB.received(2);
    expect(bus.claims).toEqual(['a']);
    // A's watcher leaves: A goes on polling while B's watchers mark interest.
    stopA.abort();
    await onA.done;
    await logs.step(() => logs.append('three\n'));
    await onB.received(3);
    expect(bus.claims).toEqual(['a']);
    // A stops (its instance ends); B takes the claim once it is free and reads on from what it saw.
    const readsBeforeTakeOver = logs.reads.length;
    await a.close();
    logs.release();
    await logs.step(() => logs.append('four\n'));
    await onB.received(4);
    expect(bus.claims).toEqual(['a', 'b']);
    expect(logs.reads.slice(readsBeforeTakeOver)).toContain(Buffer.byteLength('one\ntwo\nthree\n'));
    await logs.step(() => jobs.set('SUCCESS'));
    await logs.step();
    await onB.done;
    expect(onB.error).toBeNull();
    expect(onB.text).toBe('one\ntwo\nthree\nfour\n');
    expect(contiguousFrom(onB.chunks, 0)).toBe(true);
    await b.close();
  });
});
