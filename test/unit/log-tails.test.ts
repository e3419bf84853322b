import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LogMetrics } from '../../src/logs/log-metrics.ts';
import { Collector, contiguousFrom, FakeJobs, FakeLogs, logService, runningJob } from '../helpers/fake-logs.ts';

const LINES = ['\u001b[32mstep one\u001b[0m\n', 'step two: größe ✓\n', 'partial ', 'line done\n', 'more\nand more\n'];

/** n watchers of one job while it writes LINES and finishes; the upstream reads it cost. */
async function watchedBy(n: number): Promise<{ reads: number; watchers: Collector[]; text: string }> {
  const logs = new FakeLogs();
  logs.gated = true;
  const jobs = new FakeJobs();
  const service = logService(logs, { jobs });
  const job = runningJob();
  const watchers = Array.from({ length: n }, (_, i) => new Collector(service.watch(job, null, { identity: `user-${i % 7}`, signal: new AbortController().signal })));
  for (const line of LINES) await logs.step(() => logs.append(line));
  // The job finishes during a read: the next read is the last.
  await logs.step(() => jobs.set('SUCCESS'));
  await logs.step();
  await Promise.all(watchers.map((w) => w.done));
  await service.close();
  return { reads: logs.reads.length, watchers, text: logs.text.toString('utf8') };
}

describe('LogTails: one tail per job', () => {
  it('costs 100 watchers of one job the same upstream reads as one, and each gets the whole log in order', async () => {
    const one = await watchedBy(1);
    const hundred = await watchedBy(100);
    expect(one.reads).toBe(LINES.length + 2);
    expect(hundred.reads).toBe(one.reads);
    for (const w of [...one.watchers, ...hundred.watchers]) {
      expect(w.error).toBeNull();
      expect(w.text).toBe(hundred.text);
      expect(contiguousFrom(w.chunks, 0)).toBe(true);
      expect(w.chunks.at(-1)!.complete).toBe(true);
      // Whole lines: every chunk but the last ends with a newline.
      for (const c of w.chunks.slice(0, -1)) expect(c.text.endsWith('\n')).toBe(true);
    }
  });

  it('serves a watcher joining midway with `after` with no gap and no duplicate, from the ring', async () => {
    const logs = new FakeLogs();
    logs.gated = true;
    const jobs = new FakeJobs();
    const service = logService(logs, { jobs });
    const job = runningJob();
    const first = new Collector(service.watch(job, null, { identity: 'a', signal: new AbortController().signal }));
    await logs.step(() => logs.append('one\n'));
    await logs.step(() => logs.append('two\nthree\n'));
    await first.received(2);
    const after = first.chunks[0]!.nextOffset;
    const second = new Collector(service.watch(job, after, { identity: 'b', signal: new AbortController().signal }));
    await second.received(1);
    await logs.step(() => logs.append('four\n'));
    await logs.step(() => jobs.set('SUCCESS'));
    await logs.step();
    await Promise.all([first.done, second.done]);
    expect(second.text).toBe('two\nthree\nfour\n');
    expect(contiguousFrom(second.chunks, after)).toBe(true);
    expect(first.text).toBe('one\ntwo\nthree\nfour\n');
    // The joining watcher cost nothing upstream: one read per step.
    expect(logs.reads).toHaveLength(5);
    await service.close();
  });

  it('reads what fell out of the ring upstream, then serves the ring, with no gap and no duplicate', async () => {
    const logs = new FakeLogs();
    logs.gated = true;
    const jobs = new FakeJobs();
    const service = logService(logs, { jobs, config: { ringBytes: 64, maxChunkBytes: 16 } });
    const job = runningJob();
    const first = new Collector(service.watch(job, null, { identity: 'a', signal: new AbortController().signal }));
    const lines = Array.from({ length: 30 }, (_, i) => `line ${String(i).padStart(3, '0')}\n`);
    for (let i = 0; i < 30; i += 10) await logs.step(() => logs.append(lines.slice(i, i + 10).join('')));
    await first.received(30);
    const readsBefore = logs.reads.length;
    // The late watcher's gap read goes through the gate too.
    const late = new Collector(service.watch(job, 0, { identity: 'b', signal: new AbortController().signal }));
    await logs.step();
    await late.received(1);
    expect(logs.reads.slice(readsBefore)).toContain(0);
    await logs.step(() => jobs.set('SUCCESS'));
    await logs.step();
    await Promise.all([first.done, late.done]);
    expect(late.error).toBeNull();
    expect(late.text).toBe(lines.join(''));
    expect(contiguousFrom(late.chunks, 0)).toBe(true);
    for (const c of late.chunks) expect(c.nextOffset - c.offset).toBeLessThanOrEqual(16);
    await service.close();
  });

  it('redacts configured patterns before any watcher or Job.log sees them', async () => {
    const logs = new FakeLogs();
    const jobs = new FakeJobs();
    const service = logService(logs, { jobs, config: { redact: ['s3cr3t-[a-z0-9]+'] } });
    logs.append('token s3cr3t-abc123 used\n');
    logs.complete = true;
    const watcher = new Collector(service.watch(runningJob(), null, { identity: 'a', signal: new AbortController().signal }));
    await watcher.done;
    expect(watcher.text).toBe('token [REDACTED] used\n');
    const read = await service.read(runningJob(), { tail: null, after: null, signal: AbortSignal.timeout(5000) });
    expect(read?.text).toBe('token [REDACTED] used\n');
    await service.close();
  });

  it('stops the tail when the last watcher leaves, and starts a new one for the next watcher', async () => {
    const logs = new FakeLogs();
    logs.gated = true;
    const service = logService(logs);
    const job = runningJob();
    const stops = [new AbortController(), new AbortController()];
    const watchers = stops.map((s, i) => new Collector(service.watch(job, null, { identity: `u${i}`, signal: s.signal })));
    await logs.step(() => logs.append('hello\n'));
    await Promise.all(watchers.map((w) => w.received(1)));
    stops[0]!.abort();
    await watchers[0]!.done;
    expect(service.activeTails).toBe(1);
    stops[1]!.abort();
    await watchers[1]!.done;
    // The tail may be in a read: let it finish; the tail then ends (its stop is the barrier).
    logs.gated = false;
    logs.release();
    await service.tailStopped('b1:j1');
    expect(service.activeTails).toBe(0);
    const readsWhenStopped = logs.reads.length;
    // Sentinel: the next read comes from a new tail, started by a new watcher, at its offset.
    logs.gated = true;
    const again = new Collector(service.watch(job, 6, { identity: 'u3', signal: new AbortController().signal }));
    await logs.readWaiting();
    expect(logs.reads.slice(readsWhenStopped)).toEqual([6]);
    expect(service.activeTails).toBe(1);
    logs.complete = true;
    logs.release();
    await again.done;
    await service.close();
  });

  it('limits concurrent watches per identity with LOG_TAIL_LIMIT', async () => {
    const logs = new FakeLogs();
    logs.gated = true;
    const service = logService(logs, { config: { maxTailsPerIdentity: 2 } });
    const stop = new AbortController();
    const open = [1, 2].map(() => new Collector(service.watch(runningJob(), null, { identity: 'k', signal: stop.signal })));
    expect(() => service.watch(runningJob(), null, { identity: 'k', signal: stop.signal })).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'LOG_TAIL_LIMIT', limit: 2 }) }));
    // Another identity is not affected.
    const other = new Collector(service.watch(runningJob(), null, { identity: 'other', signal: stop.signal }));
    stop.abort();
    logs.gated = false;
    logs.release();
    await Promise.all([...open, other].map((w) => w.done));
    // A watch ended before its first chunk gives its slot back too.
    for (let i = 0; i < 3; i++) await service.watch(runningJob(), null, { identity: 'k', signal: AbortSignal.abort() })[Symbol.asyncIterator]().return!();
    expect(() => [1, 2].map(() => service.watch(runningJob(), null, { identity: 'k', signal: AbortSignal.abort() }))).not.toThrow();
    await service.close();
  });

  it('refuses a job whose log cannot be read with LOG_UNAVAILABLE and the reason', () => {
    const logs = new FakeLogs();
    logs.kind = 'NONE';
    const service = logService(logs);
    expect(() => service.watch(runningJob(), null, { identity: 'a', signal: AbortSignal.abort() })).toThrow(expect.objectContaining({ message: expect.stringContaining('the fake says NONE'), extensions: expect.objectContaining({ code: 'LOG_UNAVAILABLE' }) }));
  });

  it('waits for an AFTER_COMPLETION job to finish, then serves its log to every watcher from one read', async () => {
    const logs = new FakeLogs();
    logs.kind = 'AFTER_COMPLETION';
    const jobs = new FakeJobs();
    const service = logService(logs, { jobs });
    const watchers = [1, 2, 3].map((i) => new Collector(service.watch(runningJob(), null, { identity: `u${i}`, signal: new AbortController().signal })));
    // Barrier: the tail looked at the job and waits on its change; nothing was read.
    while (jobs.waits.length === 0) await jobs.waitedOn.wait();
    expect(logs.reads).toHaveLength(0);
    logs.append('##[group]Build\nbuilt\n##[endgroup]\n');
    logs.complete = true;
    jobs.set('SUCCESS');
    await Promise.all(watchers.map((w) => w.done));
    expect(logs.reads).toHaveLength(1);
    for (const w of watchers) {
      expect(w.text).toBe('##[group]Build\nbuilt\n##[endgroup]\n');
      expect(w.chunks.flatMap((c) => c.sections).map((s) => [s.marker, s.name])).toEqual([['START', 'Build'], ['END', 'Build']]);
    }
    await service.close();
  });

  it('reads the job again upstream when nothing reports its finish: a quiet trace tail ends, an AFTER_COMPLETION log opens', async () => {
    // A trace (GitLab): the job finished upstream, no webhook or poll says so.
    const logs = new FakeLogs(4);
    const jobs = new FakeJobs();
    const service = logService(logs, { jobs, config: { maxPollIntervalSeconds: 0.02 } });
    const watcher = new Collector(service.watch(runningJob(), null, { identity: 'a', signal: new AbortController().signal }));
    logs.append('last line\n');
    jobs.upstreamStatus = 'SUCCESS';
    await watcher.done;
    expect(watcher.text).toBe('last line\n');
    expect(watcher.chunks.at(-1)!.complete).toBe(true);
    expect(jobs.refreshes).toBeGreaterThan(0);
    await service.close();

    // A log served after completion (GitHub): the tail re-reads the job between waits on its change.
    const after = new FakeLogs();
    after.kind = 'AFTER_COMPLETION';
    const afterJobs = new FakeJobs();
    const afterService = logService(after, { jobs: afterJobs, config: { maxPollIntervalSeconds: 0.02 } });
    const early = new Collector(afterService.watch(runningJob(), null, { identity: 'a', signal: new AbortController().signal }));
    after.append('built\n');
    after.complete = true;
    afterJobs.upstreamStatus = 'SUCCESS';
    await early.done;
    expect(early.text).toBe('built\n');
    expect(after.reads).toHaveLength(1);
    await afterService.close();
  });

  it('reads Job.log: the last N lines, what follows an offset, null before an AFTER_COMPLETION job ends', async () => {
    const logs = new FakeLogs();
    const jobs = new FakeJobs();
    const service = logService(logs, { jobs });
    logs.append('a\nb\nc\npartial');
    const signal = AbortSignal.timeout(5000);
    expect(await service.read(runningJob(), { tail: 2, after: null, signal })).toMatchObject({ text: 'b\nc\n', offset: 2, nextOffset: 6, truncated: true, complete: false });
    expect(await service.read(runningJob(), { tail: null, after: 4, signal })).toMatchObject({ text: 'c\n', offset: 4, truncated: false });
    jobs.set('SUCCESS');
    expect(await service.read(runningJob(), { tail: null, after: 4, signal })).toMatchObject({ text: 'c\npartial', complete: true });
    logs.kind = 'AFTER_COMPLETION';
    jobs.set('RUNNING');
    expect(await service.read(runningJob(), { tail: null, after: null, signal })).toBeNull();
  });

  it('counts tails, watchers, upstream reads, bytes and chunks for /metrics', async () => {
    const logs = new FakeLogs();
    const registry = new Registry();
    const service = logService(logs, { metrics: new LogMetrics(registry) });
    logs.append('one\ntwo\n');
    logs.complete = true;
    const watchers = [1, 2].map((i) => new Collector(service.watch(runningJob(), null, { identity: `u${i}`, signal: new AbortController().signal })));
    await Promise.all(watchers.map((w) => w.done));
    await service.tailStopped('b1:j1');
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.backend === 'b1')?.value;
    expect(await value('switchyard_log_upstream_reads_total')).toBe(1);
    expect(await value('switchyard_log_bytes_read_total')).toBe(8);
    expect(await value('switchyard_log_chunks_delivered_total')).toBe(watchers.reduce((n, w) => n + w.chunks.length, 0));
    expect(await value('switchyard_log_tails_active')).toBe(0);
    expect(await value('switchyard_log_watchers')).toBe(0);
    await service.close();
  });

  it('polls at the provider\'s minimum while output flows and backs off to the maximum while quiet', async () => {
    const logs = new FakeLogs(4);
    logs.gated = true;
    const waits: number[] = [];
    const service = logService(logs, { config: { maxPollIntervalSeconds: 0.04 }, onPollWait: (_key, ms) => waits.push(ms) });
    const watcher = new Collector(service.watch(runningJob(), null, { identity: 'a', signal: new AbortController().signal }));
    // Quiet: every wait longer than the one before, up to the maximum.
    for (let i = 0; i < 8; i++) await logs.step();
    await logs.readWaiting();
    expect(waits.slice(0, 8)).toEqual([6, 9, 14, 21, 32, 40, 40, 40]);
    // Output flows: the wait halves each read, never below the minimum.
    for (let i = 0; i < 5; i++) await logs.step(() => logs.append(`line ${i}\n`));
    await logs.readWaiting();
    expect(waits.slice(8, 13)).toEqual([20, 10, 5, 4, 4]);
    logs.complete = true;
    logs.release();
    await watcher.done;
    await service.close();
  });
});
