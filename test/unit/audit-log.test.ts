import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFileAuditLog, createMemoryAuditLog, createNullAuditLog, headPathFor, parseHead,
} from '../../src/audit/audit-log.ts';
import {
  GENESIS_HASH, canonicalJson, sealRecord, sha256Hex, type AuditEntry, type AuditRecord,
} from '../../src/audit/audit-record.ts';
import { sampleEntry } from '../../src/audit/sample-entries.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { waitFor } from '../helpers/stack.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'switchyard-audit-log-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const fixedNow = (): (() => Date) => {
  let t = Date.parse('2026-05-01T10:00:00Z');
  return () => new Date((t += 1000));
};

async function readRecords(path: string): Promise<AuditRecord[]> {
  const text = await fsp.readFile(path, 'utf8');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as AuditRecord);
}

function end(id: string): AuditEntry {
  return { kind: 'subscription-end', id, reason: 'complete' };
}

describe('canonical JSON and sealing', () => {
  it('should sort keys recursively, drop undefined and be stable across parse', () => {
    const v = { b: 1, a: { d: [1, undefined, 'x'], c: null, e: undefined }, '10': true, '9': false };
    const s = canonicalJson(v);
    expect(s).toBe('{"10":true,"9":false,"a":{"c":null,"d":[1,null,"x"]},"b":1}');
    expect(canonicalJson(JSON.parse(s))).toBe(s);
    expect(canonicalJson(Number.NaN)).toBe('null');
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
  });

  it('should hash the canonical JSON of the record without its hash', () => {
    const { record, line } = sealRecord(sampleEntry(1), 1, '2026-05-01T10:00:00.000Z', GENESIS_HASH);
    const { hash, ...rest } = record;
    expect(hash).toBe(sha256Hex(canonicalJson(rest)));
    expect(line).toBe(canonicalJson(record));
    expect(record.seq).toBe(1);
    expect(record.prevHash).toBe(GENESIS_HASH);
  });
});

describe('memory and null logs', () => {
  it('should chain records from seq 1 and verify', async () => {
    const log = createMemoryAuditLog({ now: fixedNow() });
    for (let i = 0; i < 25; i++) log.append(sampleEntry(i));
    expect(log.records.map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    for (let i = 1; i < 25; i++) expect(log.records[i]!.prevHash).toBe(log.records[i - 1]!.hash);
    const r = await verifyAuditLog(Readable.from([log.text()]), { expect: { lastSeq: 25, lastHash: log.head()!.hash } });
    expect(r).toMatchObject({ ok: true, records: 25 });
  });

  it('should make the null log a no-op', async () => {
    const log = createNullAuditLog();
    log.append(sampleEntry(0));
    await log.flush();
    await log.close();
  });
});

describe('file audit log', () => {
  it('should continue the chain across restarts (reopen reads the tail) and keep the head checkpoint', async () => {
    const path = join(dir, 'audit.jsonl');
    const now = fixedNow();
    for (let run = 0; run < 3; run++) {
      const log = createFileAuditLog(path, { now, headEvery: 1_000_000, headIntervalMs: 60_000 });
      for (let i = 0; i < 40; i++) log.append(sampleEntry(run * 40 + i));
      await log.close();
      expect(log.position().seq).toBe((run + 1) * 40);
    }
    const records = await readRecords(path);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    const head = parseHead(await fsp.readFile(headPathFor(path), 'utf8'));
    expect(head).toMatchObject({ seq: 120, hash: records[119]!.hash });
    const r = await verifyAuditLog(path);
    expect(r).toMatchObject({ ok: true, records: 120, anchor: { source: 'head', lastSeq: 120 } });
    // The file is owner-only.
    expect((await fsp.stat(path)).mode & 0o777).toBe(0o600);
  });

  it('should find the last record with a tail window smaller than one line', async () => {
    const path = join(dir, 'audit.jsonl');
    const big: AuditEntry = { ...sampleEntry(0), kind: 'config-load', source: 'x', backends: Array.from({ length: 400 }, (_, i) => `backend-${i}`), configSha256: sha256Hex('c'), demo: false };
    let log = createFileAuditLog(path, { now: fixedNow() });
    for (let i = 0; i < 5; i++) log.append(big);
    await log.close();
    log = createFileAuditLog(path, { now: fixedNow(), tailWindow: 1024 });
    await log.ready;
    expect(log.position().seq).toBe(5);
    log.append(end('after'));
    await log.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 6 });
  });

  it('should keep call order under concurrent appends', async () => {
    const path = join(dir, 'audit.jsonl');
    const log = createFileAuditLog(path, { now: fixedNow(), headEvery: 7 });
    const order: string[] = [];
    const tasks = Array.from({ length: 40 }, async (_, t) => {
      for (let i = 0; i < 25; i++) {
        // interleave with timers and microtasks, and flush now and then
        if ((t + i) % 3 === 0) await new Promise((r) => setTimeout(r, (t * 7 + i) % 3));
        else await Promise.resolve();
        const id = `${t}-${i}`;
        order.push(id);
        log.append(end(id));
        if (i % 10 === 9) await log.flush();
      }
    });
    await Promise.all(tasks);
    await log.close();
    const records = await readRecords(path);
    expect(records).toHaveLength(1000);
    expect(records.map((r) => (r.kind === 'subscription-end' ? r.id : ''))).toEqual(order);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 1000 });
  });

  it('should not await in append and write in batches', async () => {
    const path = join(dir, 'audit.jsonl');
    const log = createFileAuditLog(path, { now: fixedNow(), fsync: true });
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) log.append(sampleEntry(i));
    const appendMs = performance.now() - t0;
    await log.flush();
    expect((await readRecords(path)).length).toBe(5000);
    console.log(`5000 appends queued in ${appendMs.toFixed(1)} ms (fsync on)`);
    await log.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 5000 });
  });

  it('should update the head checkpoint every N records and on flush', async () => {
    const path = join(dir, 'audit.jsonl');
    const log = createFileAuditLog(path, { now: fixedNow(), headEvery: 10, headIntervalMs: 60_000 });
    const headSeq = async () => parseHead(await fsp.readFile(headPathFor(path), 'utf8').catch(() => ''))?.seq;
    for (let i = 0; i < 10; i++) log.append(sampleEntry(i));
    await waitFor(async () => (await headSeq()) === 10);
    log.append(sampleEntry(10));
    await waitFor(async () => (await readRecords(path)).length === 11);
    // Barrier for "not yet due": one more record. The writer finishes a batch's head write
    // before it writes the next batch, so once this record is in the file, a head that
    // record 11 had made due would already be written.
    log.append(sampleEntry(11));
    await waitFor(async () => (await readRecords(path)).length === 12);
    expect(await headSeq()).toBe(10);
    await log.flush();
    expect(await headSeq()).toBe(12);
    await log.close();
  });

  it('should update the head checkpoint after the interval when idle', async () => {
    const path = join(dir, 'audit.jsonl');
    const log = createFileAuditLog(path, { now: fixedNow(), headEvery: 1000, headIntervalMs: 30 });
    log.append(sampleEntry(0));
    await new Promise((r) => setTimeout(r, 5));
    log.append(sampleEntry(1));
    // Due 30 ms after the last head write (headEvery is 1000, and nothing flushes).
    await waitFor(async () => parseHead(await fsp.readFile(headPathFor(path), 'utf8').catch(() => ''))?.seq === 2);
    await log.close();
  });

  it('should never throw into callers: unopenable path, append after close, throwing onError', async () => {
    const errors: Error[] = [];
    const bad = createFileAuditLog(join(dir, 'missing-dir', 'audit.jsonl'), { onError: (e) => errors.push(e) });
    bad.append(sampleEntry(0));
    await bad.flush();
    await bad.close();
    expect(errors.some((e) => /ENOENT/.test(e.message))).toBe(true);
    expect(bad.dropped()).toBe(1);

    const path = join(dir, 'audit.jsonl');
    const log = createFileAuditLog(path, { onError: () => { throw new Error('boom'); } });
    log.append(sampleEntry(1));
    await log.close();
    expect(() => log.append(sampleEntry(2))).not.toThrow();
    expect(log.dropped()).toBe(1);
  });

  it('should skip an unserialisable entry and keep the chain', async () => {
    const path = join(dir, 'audit.jsonl');
    const errors: Error[] = [];
    const log = createFileAuditLog(path, { onError: (e) => errors.push(e) });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    log.append(sampleEntry(0));
    log.append({ ...(sampleEntry(0) as Extract<AuditEntry, { kind: 'graphql' }>), variables: cyclic });
    log.append(sampleEntry(1));
    await log.close();
    expect(errors).toHaveLength(1);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 2 });
  });

  it('should continue after a crash that left a partial line, which verify still reports', async () => {
    const path = join(dir, 'audit.jsonl');
    let log = createFileAuditLog(path, { now: fixedNow(), head: false });
    for (let i = 0; i < 3; i++) log.append(sampleEntry(i));
    await log.close();
    await fsp.appendFile(path, '{"at":"2026-05-01T10:00:09.000Z","kind":"webh'); // torn write
    const errors: Error[] = [];
    log = createFileAuditLog(path, { now: fixedNow(), head: false, onError: (e) => errors.push(e) });
    log.append(sampleEntry(3));
    await log.close();
    expect(errors.map((e) => e.message).join('\n')).toMatch(/partial line/);
    const records = (await fsp.readFile(path, 'utf8')).split('\n');
    expect(JSON.parse(records[4]!)).toMatchObject({ seq: 4 });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 4, records: 3 });
  });

  it('should refuse to overwrite a head checkpoint that is ahead of a truncated log', async () => {
    const path = join(dir, 'audit.jsonl');
    let log = createFileAuditLog(path, { now: fixedNow() });
    for (let i = 0; i < 10; i++) log.append(sampleEntry(i));
    await log.close();
    const lines = (await fsp.readFile(path, 'utf8')).split('\n');
    await fsp.writeFile(path, lines.slice(0, 7).join('\n') + '\n'); // drop 3 records while "down"
    const errors: Error[] = [];
    log = createFileAuditLog(path, { now: fixedNow(), onError: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) log.append(sampleEntry(100 + i)); // seq 8..12 re-used
    await log.close();
    expect(errors.map((e) => e.message).join('\n')).toMatch(/truncated or edited/);
    const r = await verifyAuditLog(path);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatch(/head checkpoint/);
  });
});
