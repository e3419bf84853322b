import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adapterFactories } from '../../src/adapters.ts';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { toGlobalId } from '../../src/ids.ts';
import { registerProviders } from '../../src/providers.ts';
import { testProvider } from '../fixtures/test-provider/index.ts';
import { startLogWorld } from '../fixtures/test-provider/testing.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { openSseStream, type SseEvent } from '../helpers/sse.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * Live logs through a real gateway (issue 17) over TestCI's log world: a watcher receives the
 * growing log of a running job in order, a second joins midway with `after` (no gap, no
 * duplicate), redaction and ANSI stripping apply, Job.log reads what exists, a job the caller
 * cannot see is NOT_FOUND, and every read is audited without its content.
 */
const ESC = '\u001b';
const JOB_LOG = `subscription ($id: ID!, $after: String, $strip: Boolean) { jobLog(id: $id, after: $after, stripAnsi: $strip) { offset nextOffset text cursor complete sections { marker name } } }`;
interface Chunk { offset: number; nextOffset: number; text: string; cursor: string; complete: boolean; sections: { marker: string; name: string }[] }
interface ChunkEvent { jobLog: Chunk }

describe('live job logs through the gateway (testci)', () => {
  let world: Awaited<ReturnType<typeof startLogWorld>>;
  let stack: GatewayStack;
  let auditFile: string;
  const keys: Record<string, string> = {};
  const clients: Client[] = [];

  beforeAll(async () => {
    world = await startLogWorld();
    auditFile = join(mkdtempSync(join(tmpdir(), 'sy-logs-')), 'audit.jsonl');
    const apiKeys = await Promise.all(Object.entries({ all: [{ backends: ['*'] }], web: [{ backends: ['tci'], projects: ['acme-web'] }] }).map(async ([id, scopes]) => {
      const created = await createApiKey(id);
      keys[id] = created.key;
      return { id, hash: created.hash, scopes };
    }));
    stack = await startGatewayStack({
      freshnessSeconds: 0,
      audit: { file: auditFile },
      auth: { mode: 'required', apiKeys },
      logs: { redact: ['s3cr3t-[a-z0-9]+'] },
      backends: [
        { name: 'tci', provider: 'testci', ...world.backend },
        { name: 'tci-plain', provider: 'testci', url: world.server.url, token: { value: 'tci_contractcontractcontract' }, projects: ['acme-api'] },
      ],
    }, { factories: registerProviders(...Object.values(adapterFactories), testProvider), onClose: () => world.stop() });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await stack?.close();
  });

  const ws = (key = keys.all!) => {
    const client = createClient({ url: stack.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` } });
    clients.push(client);
    return client;
  };
  const query = async <T>(q: string, variables: Record<string, unknown>, key = keys.all!) => {
    const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query: q, variables }) });
    return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  };
  const textOf = (items: ChunkEvent[]) => items.map((i) => i.jobLog.text).join('');
  const contiguous = (items: ChunkEvent[], from: number) => items.every((item, i) => item.jobLog.offset === (i === 0 ? from : items[i - 1]!.jobLog.nextOffset));
  const ended = (items: ChunkEvent[]) => items.at(-1)?.jobLog.complete === true;

  it('says LIVE for a running job of a backend with logs, NONE with the reason for one without', async () => {
    const id = await world.startJob();
    const res = await query<{ a: { logAvailability: { kind: string } }; b: { logAvailability: { kind: string; reason: string } } }>(
      'query ($a: ID!, $b: ID!) { a: node(id: $a) { ... on Job { logAvailability { kind } } } b: node(id: $b) { ... on Job { logAvailability { kind reason } } } }',
      { a: toGlobalId('Job', 'tci', id), b: toGlobalId('Job', 'tci-plain', id) },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.a.logAvailability.kind).toBe('LIVE');
    expect(res.data!.b.logAvailability).toEqual({ kind: 'NONE', reason: expect.stringContaining('tci-plain serves no job logs') });
    await world.finish(id);
  });

  it('streams a running job\'s growing log in order, and serves a watcher joining midway with `after` with no gap and no duplicate', async () => {
    const nativeId = await world.startJob();
    const id = toGlobalId('Job', 'tci', nativeId);
    await world.append(nativeId, `##[group]Build\n${ESC}[32mstep one${ESC}[0m\n`);
    const first = collect<ChunkEvent>(ws(), JOB_LOG, { id }, ended);
    await waitFor(() => textOf(first.items).includes('step one'), 5000, 'the first lines');
    await world.append(nativeId, 'token s3cr3t-abc123 used\n');
    await waitFor(() => textOf(first.items).includes('token'), 5000, 'the second line');
    const cursor = first.items[0]!.jobLog.cursor;
    const from = first.items[0]!.jobLog.nextOffset;
    const second = collect<ChunkEvent>(ws(), JOB_LOG, { id, after: cursor, strip: true }, ended);
    await waitFor(() => second.items.length > 0, 5000, 'the joining watcher\'s first chunk');
    await world.append(nativeId, 'größe ✓ half a line');
    await world.append(nativeId, ' and its end\n##[endgroup]\n');
    await world.finish(nativeId);
    const [a, b] = await Promise.all([first.done, second.done]);
    const whole = `##[group]Build\n${ESC}[32mstep one${ESC}[0m\ntoken [REDACTED] used\ngröße ✓ half a line and its end\n##[endgroup]\n`;
    expect(textOf(a)).toBe(whole);
    expect(contiguous(a, 0)).toBe(true);
    expect(textOf(b)).toBe(whole.slice(Buffer.from(whole).subarray(0, from).toString().length).replaceAll(`${ESC}[32m`, '').replaceAll(`${ESC}[0m`, ''));
    expect(contiguous(b, from)).toBe(true);
    expect(a.flatMap((i) => i.jobLog.sections)).toEqual([{ marker: 'START', name: 'Build' }, { marker: 'END', name: 'Build' }]);
    // Whole lines only: no chunk but the last ends inside a line.
    for (const item of a.slice(0, -1)) expect(item.jobLog.text.endsWith('\n')).toBe(true);
    // Figures for the report: requests for this log while two watchers followed it.
    console.info(`testci log requests for one job with two watchers: ${world.logRequests(nativeId)}`);
  });

  it('reads Job.log: the last lines, what follows a cursor; refuses a malformed cursor', async () => {
    const nativeId = await world.startJob();
    const id = toGlobalId('Job', 'tci', nativeId);
    await world.append(nativeId, 'a\nb\nc\n');
    const q = 'query ($id: ID!, $tail: Int, $after: String) { node(id: $id) { ... on Job { log(tail: $tail, after: $after) { text offset nextOffset truncated complete cursor } } } }';
    const tail = await query<{ node: { log: { text: string; truncated: boolean; cursor: string } } }>(q, { id, tail: 2 });
    expect(tail.errors).toBeUndefined();
    expect(tail.data!.node.log).toMatchObject({ text: 'b\nc\n', truncated: true });
    await world.append(nativeId, 'd\n');
    const next = await query<{ node: { log: { text: string } } }>(q, { id, after: tail.data!.node.log.cursor });
    expect(next.data!.node.log.text).toBe('d\n');
    const bad = await query(q, { id, after: 'not-a-cursor' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await world.finish(nativeId);
  });

  it('treats a job the caller cannot see as NOT_FOUND, and audits every read without its content', async () => {
    const nativeId = await world.startJob();
    await world.append(nativeId, 'hidden s3cr3t-zzz\n');
    const id = toGlobalId('Job', 'tci', nativeId);
    const refused = await new Promise<{ message: string; extensions?: { code?: string } }[]>((resolve) => {
      ws(keys.web).subscribe({ query: JOB_LOG, variables: { id } }, { next: (v) => v.errors && resolve(v.errors as never), error: (e) => resolve(e as never), complete: () => resolve([]) });
    });
    expect(refused[0]?.extensions?.code).toBe('NOT_FOUND');
    await world.finish(nativeId);
    const all = collect<ChunkEvent>(ws(), JOB_LOG, { id }, ended);
    await all.done;
    await waitFor(() => readFileSync(auditFile, 'utf8').includes(nativeId), 5000, 'the audit record');
    const records = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const reads = records.filter((r) => r.kind === 'log-read' && r.job.nativeId === nativeId);
    expect(reads).toEqual([expect.objectContaining({ kind: 'log-read', backend: 'tci', operation: 'subscription', startOffset: 0, identity: expect.objectContaining({ id: 'key:all' }) })]);
    expect(readFileSync(auditFile, 'utf8')).not.toContain('hidden');
  });

  it('over SSE, puts each chunk\'s cursor on its `id:` line and resumes after Last-Event-ID with no gap and no duplicate', async () => {
    const nativeId = await world.startJob();
    const id = toGlobalId('Job', 'tci', nativeId);
    const auth = { authorization: `Bearer ${keys.all!}` };
    type SseChunk = { jobLog: { text: string; complete: boolean; cursor?: string } };
    const chunks = (events: SseEvent[]) => events.map((e) => (e.data.data as SseChunk).jobLog);
    await world.append(nativeId, 'one\n');
    // No cursor selected: the id line carries it anyway.
    const first = openSseStream(stack.graphqlUrl, { query: 'subscription ($id: ID!) { jobLog(id: $id) { text complete } }', variables: { id }, headers: auth });
    await first.until((events) => chunks(events).map((c) => c.text).join('').includes('one'));
    first.close();
    const lastSeen = first.events.at(-1)!.id;
    expect(lastSeen).toEqual(expect.any(String));

    await world.append(nativeId, 'two\n');
    const resumed = openSseStream(stack.graphqlUrl, { query: 'subscription ($id: ID!) { jobLog(id: $id) { text complete cursor } }', variables: { id }, headers: auth, lastEventId: lastSeen! });
    await resumed.until((events) => chunks(events).map((c) => c.text).join('').includes('two'));
    await world.append(nativeId, 'three\n');
    await world.finish(nativeId);
    await resumed.until((events) => chunks(events).at(-1)?.complete === true);
    expect(chunks(resumed.events).map((c) => c.text).join('')).toBe('two\nthree\n');
    for (const e of resumed.events) expect(e.id).toBe((e.data.data as SseChunk).jobLog.cursor);
  });
});
