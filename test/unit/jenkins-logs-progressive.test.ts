import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JenkinsClient, RawAnswer } from '../../adapters/jenkins/client.ts';
import jenkinsAdapter from '../../adapters/jenkins/index.ts';
import { createJenkinsLogs, jenkinsLogAvailability, type JenkinsLogRead } from '../../adapters/jenkins/logs.ts';
import { readProgressiveText } from '../../adapters/jenkins/progressive-text.ts';
import kit from '../../adapters/jenkins/testing.ts';
import type { BackendAdapter, BackendLogs } from '../../src/adapter-contract.ts';
import type { LogWorld, LogsKit } from '../../src/adapter-testing.ts';
import { UpstreamError } from '../../src/errors.ts';
import type { JobModel } from '../../src/model.ts';
import { contractContext } from '../contract/adapter-context.ts';

const signal = () => AbortSignal.timeout(10_000);

describe('jenkins progressiveText answers (pure)', () => {
  it('takes X-Text-Size as the next offset and the body as it came, for any offset and body', () => {
    fc.assert(fc.property(fc.nat(1_000_000), fc.uint8Array({ maxLength: 64 }), fc.nat(1_000), fc.constantFrom(null, 'true', 'TRUE', 'false'), (offset, body, extra, more) => {
      const size = offset + extra;
      const read = readProgressiveText(offset, Buffer.from(body), String(size), more);
      expect(read.nextOffset).toBe(size);
      expect(Buffer.from(read.bytes).equals(Buffer.from(body))).toBe(true);
      expect(read.exact).toBe(extra === body.length);
      expect(read.complete).toBe(more?.toLowerCase() !== 'true');
    }));
  });

  it('answers empty bytes at the offset when Jenkins rolled over (start past the end: it served the whole log)', () => {
    fc.assert(fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 10_000 }), (size, past) => {
      const read = readProgressiveText(size + past, Buffer.alloc(size, 0x61), String(size), null);
      expect(read.bytes.length).toBe(0);
      expect(read.nextOffset).toBe(size + past);
      expect(read.complete).toBe(true);
    }));
  });

  it('refuses an answer without a numeric X-Text-Size', () => {
    for (const header of [null, '', 'abc', '-1', '1.5', '12 bytes']) {
      expect(() => readProgressiveText(0, Buffer.alloc(0), header, null), String(header)).toThrow(/X-Text-Size/);
    }
  });
});

/** A BackendLogs over a stub client: what the adapter makes of answers a simulator never gives. */
function stubLogs(answer: (path: string, params: Record<string, string>) => RawAnswer) {
  const calls: string[] = [];
  const client = {
    getBytes: async (path: string, params: Record<string, string>) => {
      calls.push(`${path}?start=${params.start}`);
      return answer(path, params);
    },
  } as unknown as JenkinsClient;
  return { calls, logs: createJenkinsLogs({ backend: 'jk', client, covers: (name) => name.startsWith('team-a/') }) };
}

describe('jenkins logs (adapter, stub upstream)', () => {
  it('reads the build console for a stage and for a freestyle build, from the offset asked', async () => {
    const { calls, logs } = stubLogs(() => ({ bytes: Buffer.from('x\n'), headers: new Headers({ 'x-text-size': '12', 'x-more-data': 'true' }) }));
    const stage = (await logs.read('team-a/service#7/stage/12', 10, signal())) as JenkinsLogRead;
    expect(stage).toMatchObject({ complete: false, nextOffset: 12 });
    await logs.read('team-a/lint#3/build', 0, signal());
    expect(calls).toEqual(['/job/team-a/job/service/7/logText/progressiveText?start=10', '/job/team-a/job/lint/3/logText/progressiveText?start=0']);
    expect(logs.logSource!('team-a/service#7/stage/12')).toBe('team-a/service#7');
    expect(logs.logSource!('team-a/service#7/stage/15')).toBe(logs.logSource!('team-a/service#7/build'));
  });

  it('answers null without a request for a malformed id, a job outside the roots or a bad offset', async () => {
    const { calls, logs } = stubLogs(() => ({ bytes: Buffer.alloc(0), headers: new Headers({ 'x-text-size': '0' }) }));
    for (const [id, offset] of [['nope', 0], ['other/job#1/build', 0], ['team-a/service#7/build', -1], ['team-a/service#7/build', 1.5]] as const) {
      expect(await logs.read(id, offset, signal()), id).toBeNull();
    }
    expect(calls).toEqual([]);
  });

  it('fails with an UpstreamError naming the backend when X-Text-Size is missing', async () => {
    const { logs } = stubLogs(() => ({ bytes: Buffer.from('text'), headers: new Headers() }));
    const error = await logs.read('team-a/service#7/build', 0, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).backend).toBe('jk');
    expect((error as UpstreamError).message).toMatch(/progressiveText.*X-Text-Size/);
  });

  it('says LIVE for a running or finished stage (its build console) and NONE before its build starts', () => {
    const job = (nativeId: string, status: JobModel['status']) => ({ nativeId, status }) as JobModel;
    for (const status of ['RUNNING', 'WAITING', 'SUCCESS', 'FAILURE', 'CANCELED', 'SKIPPED'] as const) {
      const said = jenkinsLogAvailability(job('team-a/service#7/stage/12', status));
      expect(said.kind, status).toBe('LIVE');
      expect(said.reason, status).toMatch(/console of its build/);
    }
    for (const status of ['QUEUED', 'PENDING'] as const) {
      expect(jenkinsLogAvailability(job('team-a/service#7/stage/12', status)).kind).toBe('NONE');
      expect(jenkinsLogAvailability(job('team-a/lint#3/build', status)).kind).toBe('NONE');
    }
    expect(jenkinsLogAvailability(job('team-a/lint#3/build', 'RUNNING')).kind).toBe('LIVE');
  });
});

describe('jenkins logs against the simulator', () => {
  let world: LogWorld;
  let adapter: BackendAdapter;
  let logs: BackendLogs;
  beforeAll(async () => {
    world = await (kit.logs as LogsKit).startWorld();
    adapter = jenkinsAdapter.create(jenkinsAdapter.configSchema.parse(world.backend), contractContext('jk'));
    logs = adapter.logs!;
  });
  afterAll(async () => {
    await adapter?.dispose();
    await world?.stop();
  });

  /** Reads from `offset` with the offsets the adapter returns until nothing new comes (or the log completes). */
  const drain = async (id: string, offset: number): Promise<{ bytes: Buffer; next: number; complete: boolean }> => {
    const parts: Buffer[] = [];
    for (;;) {
      const read = (await logs.read(id, offset, signal())) as JenkinsLogRead;
      expect(read.nextOffset).toBe(offset + read.bytes.length);
      parts.push(Buffer.from(read.bytes));
      offset = read.nextOffset;
      if (read.complete || read.bytes.length === 0) return { bytes: Buffer.concat(parts), next: offset, complete: read.complete };
    }
  };

  it('reassembles exactly the log from any appends and reads at the returned offsets', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'ü', '✓', '😀', '\n', '\u001b[32m', ' '), maxLength: 40 });
    const op = fc.oneof(fc.record({ append: text }), fc.constant({ read: true as const }));
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
      const id = await world.startJob();
      let appended = '';
      let read = Buffer.alloc(0);
      let offset = 0;
      for (const o of ops) {
        if ('append' in o) {
          await world.append(id, o.append);
          appended += o.append;
          continue;
        }
        const got = await drain(id, offset);
        expect(got.complete).toBe(false);
        read = Buffer.concat([read, got.bytes]);
        offset = got.next;
        // While the build runs Jenkins serves whole lines only: a prefix of what was appended, up to its last newline.
        const whole = appended.slice(0, appended.lastIndexOf('\n') + 1);
        expect(read.toString('utf8')).toBe(whole);
      }
      await world.finish(id);
      const rest = await drain(id, offset);
      expect(rest.complete).toBe(true);
      const all = Buffer.concat([read, rest.bytes]);
      expect(all.toString('utf8').startsWith(appended)).toBe(true);
      const whole = (await logs.read(id, 0, signal()))!;
      expect(all.equals(Buffer.from(whole.bytes))).toBe(true);
      expect(all.toString('utf8')).toMatch(/Finished: SUCCESS\n$/);
    }), { numRuns: 25 });
  }, 60_000);

  it('answers a read past the end with nothing (Jenkins served the whole log from 0: rolled over)', async () => {
    const id = await world.startJob();
    await world.append(id, 'one\ntwo\n');
    const before = world.logRequests(id);
    const past = (await logs.read(id, 500, signal())) as JenkinsLogRead;
    expect(past.bytes.length).toBe(0);
    expect(past.complete).toBe(false);
    expect(world.logRequests(id)).toBe(before + 1);
    await world.finish(id);
  });
});
