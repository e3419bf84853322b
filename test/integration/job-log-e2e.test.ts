/**
 * Issue 17 end to end, per provider: a real gateway over each adapter's simulator (the kit's log
 * world), graphql-ws watchers of `jobLog`. A watcher receives the growing log in order with no
 * gap and no duplicate, a second joins midway with `after`; 100 watchers of one job cost the
 * upstream requests of one; a GitHub log is AFTER_COMPLETION, fetched once after completion for
 * every watcher, and redacted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import type { LogWorld, LogsKit } from '../../src/adapter-testing.ts';
import { toGlobalId } from '../../src/ids.ts';
import { contractFactories, contractSubjects, type ContractSubject } from '../contract/kits.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

const subjects = await contractSubjects();
const logsKitOf = (s: ContractSubject): LogsKit | null => ('unsupported' in s.kit.logs ? null : s.kit.logs);
const live = subjects.filter((s) => logsKitOf(s)?.whileRunning === 'LIVE');
const afterCompletion = subjects.filter((s) => logsKitOf(s)?.whileRunning === 'AFTER_COMPLETION');
const BACKEND = 'logs';
const SUB = 'subscription($id: ID!, $after: String) { jobLog(id: $id, after: $after) { offset nextOffset text complete cursor sections { marker name } } }';

interface Chunk { offset: number; nextOffset: number; text: string; complete: boolean; cursor: string }
type Item = { jobLog: Chunk };
const textOf = (items: readonly Item[]) => items.map((i) => i.jobLog.text).join('');
const completed = (items: readonly Item[]) => items.some((i) => i.jobLog.complete);

/**
 * Chunks follow each other from `from`: no gap, no duplicate. Offsets are upstream bytes, so each
 * chunk spans its text's bytes, except where redaction changed the text (`redacted`).
 */
function expectContiguous(items: readonly Item[], from: number, redacted = false): void {
  let at = from;
  for (const { jobLog } of items) {
    expect(jobLog.offset).toBe(at);
    if (!redacted) expect(jobLog.nextOffset).toBe(at + Buffer.byteLength(jobLog.text));
    at = jobLog.nextOffset;
  }
}

async function startLogStack(subject: ContractSubject, logs: Record<string, unknown> = {}): Promise<{ world: LogWorld; stack: GatewayStack }> {
  const world = await logsKitOf(subject)!.startWorld();
  const stack = await startGatewayStack(
    { backends: [{ name: BACKEND, provider: subject.provider, ...world.backend }], logs: { maxTailsPerIdentity: 1000, ...logs } },
    { factories: contractFactories, onClose: () => world.stop() },
  );
  return { world, stack };
}

describe.each(live)('live job logs: $provider', (subject) => {
  let world: LogWorld;
  let stack: GatewayStack;
  beforeAll(async () => {
    ({ world, stack } = await startLogStack(subject));
  }, 30_000);
  afterAll(() => stack?.close());

  it('streams the growing log in order to a watcher, and to a second one joining midway with after', async () => {
    const job = await world.startJob();
    const id = toGlobalId('Job', BACKEND, job);
    const first = collect<Item>(stack.wsClient(), SUB, { id }, completed, 60_000);
    await world.append(job, 'one \u001b[32mgreen\u001b[0m\n');
    await waitFor(() => textOf(first.items).includes('green'), 20_000, 'the first line');
    const midwayIndex = first.items.length - 1;
    const midway = first.items[midwayIndex]!.jobLog;
    await world.append(job, 'two größe\n');
    const second = collect<Item>(stack.wsClient(), SUB, { id, after: midway.cursor }, completed, 60_000);
    await waitFor(() => textOf(second.items).includes('two'), 20_000, 'the second watcher gets the second line');
    await world.append(job, 'three\n');
    await waitFor(() => textOf(first.items).includes('three'), 20_000, 'the third line');
    await world.finish(job);
    const [all, rest] = await Promise.all([first.done, second.done]);
    expect(textOf(all).startsWith('one \u001b[32mgreen\u001b[0m\ntwo größe\nthree\n')).toBe(true);
    expectContiguous(all, 0);
    expectContiguous(rest, midway.nextOffset);
    expect(textOf(rest)).toBe(textOf(all.slice(midwayIndex + 1)));
  }, 90_000);

  it('costs the upstream requests of one watcher for 100 watchers', async () => {
    const [one, many] = [await world.startJob(), await world.startJob()];
    const clients: Client[] = [stack.wsClient(), stack.wsClient(), stack.wsClient(), stack.wsClient()];
    const single = collect<Item>(clients[0]!, SUB, { id: toGlobalId('Job', BACKEND, one) }, completed, 80_000);
    const crowd = Array.from({ length: 100 }, (_, i) => collect<Item>(clients[i % 4]!, SUB, { id: toGlobalId('Job', BACKEND, many) }, completed, 80_000));
    for (const line of ['alpha\n', 'beta\n', 'gamma\n']) {
      await Promise.all([world.append(one, line), world.append(many, line)]);
      await waitFor(() => textOf(single.items).includes(line) && crowd.every((w) => textOf(w.items).includes(line)), 20_000, `every watcher has ${line.trim()}`);
    }
    await Promise.all([world.finish(one), world.finish(many)]);
    const [alone, everyone] = await Promise.all([single.done, Promise.all(crowd.map((w) => w.done))]);
    for (const items of everyone) expect(textOf(items)).toBe(textOf(alone));
    const cost = { one: world.logRequests(one), many: world.logRequests(many) };
    console.log(`${subject.provider}: upstream log requests, 1 watcher ${cost.one}, 100 watchers ${cost.many}`);
    expect(cost.one).toBeGreaterThan(0);
    // The same tail schedule for both jobs: at most a poll of difference, never a tail per watcher.
    expect(cost.many).toBeLessThanOrEqual(cost.one + 2);
  }, 120_000);
});

describe.each(afterCompletion)('job logs after completion: $provider', (subject) => {
  let world: LogWorld;
  let stack: GatewayStack;
  beforeAll(async () => {
    ({ world, stack } = await startLogStack(subject, { redact: ['sk_live_[A-Za-z0-9]+'] }));
  }, 30_000);
  afterAll(() => stack?.close());

  it('says AFTER_COMPLETION while running, then serves every watcher from one upstream fetch, redacted', async () => {
    const job = await world.startJob();
    const id = toGlobalId('Job', BACKEND, job);
    const availability = await stack.query<{ node: { logAvailability: { kind: string; reason: string } } }>(
      'query($id: ID!) { node(id: $id) { ... on Job { logAvailability { kind reason } } } }', { id });
    expect(availability.data?.node.logAvailability.kind).toBe('AFTER_COMPLETION');
    const early = collect<Item>(stack.wsClient(), SUB, { id }, completed, 60_000);
    await world.append(job, 'deploying with key sk_live_abc123XYZ\n');
    await world.append(job, 'done\n');
    expect(world.logRequests(job)).toBe(0);
    await world.finish(job);
    const items = await early.done;
    expect(textOf(items)).toContain('deploying with key');
    expect(textOf(items)).not.toContain('sk_live_abc123XYZ');
    expectContiguous(items, 0, true);
    const late = collect<Item>(stack.wsClient(), SUB, { id }, completed, 30_000);
    expect(textOf(await late.done)).toBe(textOf(items));
    const read = await stack.query<{ node: { log: { text: string; complete: boolean } } }>('query($id: ID!) { node(id: $id) { ... on Job { log { text complete } } } }', { id });
    expect(read.data?.node.log.text).toBe(textOf(items));
    expect(world.logRequests(job)).toBe(1);
  }, 90_000);
});
