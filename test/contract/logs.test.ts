import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendAdapter, BackendLogs } from '../../src/adapter-contract.ts';
import type { LogWorld, LogsKit } from '../../src/adapter-testing.ts';
import type { JobModel } from '../../src/model.ts';
import { createAdapter } from './adapter-context.ts';
import { contractSubjects, type ContractSubject } from './kits.ts';

/**
 * The logs contract (ADAPTERS.md §14) over every adapter whose kit has a log world: availability
 * honest for a running and a finished job, reads from an offset give exactly the bytes after it
 * (no gap, no duplicate, raw bytes kept), `complete` never claimed while the job runs, null for
 * a job with no log, and the signal reaching the upstream request.
 */
const subjects = await contractSubjects();
const BACKEND = 'contract-logs';
const logsKitOf = (s: ContractSubject): LogsKit | null => ('unsupported' in s.kit.logs ? null : s.kit.logs);
const withLogs = subjects.filter((s) => logsKitOf(s) !== null);
const signal = () => AbortSignal.timeout(10_000);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe.each(subjects)('logs kit: $provider', (subject) => {
  it('declares a log world, or why the provider serves no logs', () => {
    const declared = subject.kit.logs;
    if ('unsupported' in declared) expect(declared.unsupported.trim().length).toBeGreaterThan(0);
    else expect(typeof declared.startWorld).toBe('function');
  });
});

describe.each(withLogs)('logs: $provider', (subject) => {
  const kit = logsKitOf(subject)!;
  let world: LogWorld;
  let adapter: BackendAdapter;
  let logs: BackendLogs;

  beforeAll(async () => {
    world = await kit.startWorld();
    adapter = createAdapter(subject, world.backend, BACKEND);
    logs = adapter.logs!;
  }, 30_000);
  afterAll(async () => {
    await adapter?.dispose();
    await world?.stop();
  });

  const job = async (nativeId: string): Promise<JobModel> => {
    const [loaded] = await adapter.batch.jobs([nativeId], signal());
    if (!loaded || loaded instanceof Error) throw new Error(`job ${nativeId} did not load: ${String(loaded)}`);
    return loaded;
  };

  it('has BackendLogs with a positive minimum poll interval', () => {
    expect(logs).toBeDefined();
    expect(logs.minPollIntervalMs).toBeGreaterThan(0);
  });

  it('reads a growing log from any offset, never complete while the job runs, then complete once it finished', async () => {
    const id = await world.startJob();
    const running = await job(id);
    expect(logs.availability(running).kind).toBe(kit.whileRunning);
    expect(logs.availability(running).reason.length).toBeGreaterThan(0);
    // Multi-byte characters and ANSI codes: bytes are kept raw.
    const first = 'step one \u001b[32mok\u001b[0m\n';
    const second = 'step two: größe ✓\n';
    await world.append(id, first);
    if (kit.whileRunning === 'LIVE') {
      const read = (await logs.read(id, 0, signal()))!;
      expect(read).not.toBeNull();
      expect(read.complete).toBe(false);
      expect(text(read.bytes)).toBe(first);
      await world.append(id, second);
      const after = (await logs.read(id, Buffer.byteLength(first), signal()))!;
      expect(text(after.bytes)).toBe(second);
      expect(after.complete).toBe(false);
      // At or past the end: nothing, still running.
      const end = Buffer.byteLength(first + second);
      expect((await logs.read(id, end, signal()))!.bytes.length).toBe(0);
    } else {
      await world.append(id, second);
    }
    await world.finish(id);
    const finished = await job(id);
    expect(logs.availability(finished).kind).not.toBe('NONE');
    const whole = (await logs.read(id, 0, signal()))!;
    expect(text(whole.bytes).startsWith(first + second)).toBe(true);
    const rest = (await logs.read(id, Buffer.byteLength(first), signal()))!;
    expect(Buffer.from(rest.bytes).equals(Buffer.from(whole.bytes).subarray(Buffer.byteLength(first)))).toBe(true);
    // `complete` is the upstream's word where it gives one; GitLab's trace cannot tell (false).
    if (kit.whileRunning === 'AFTER_COMPLETION') expect(whole.complete).toBe(true);
  });

  it('answers null for a job that does not exist upstream', async () => {
    expect(await logs.read(world.unknownJob, 0, signal())).toBeNull();
  });

  it('passes the signal to the upstream request', async () => {
    const id = await world.startJob();
    await world.append(id, 'x\n');
    const aborted = AbortSignal.abort(new Error('deadline'));
    await expect(logs.read(id, 0, aborted)).rejects.toThrow();
    await world.finish(id);
  });
});
