import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAuditLog, headPathFor } from '../../src/audit/audit-log.ts';
import { canonicalJson, sealRecord, sha256Hex, type AuditEntry } from '../../src/audit/audit-record.ts';
import { writeSampleLog } from '../../src/audit/bench-verify.ts';
import { sampleEntry } from '../../src/audit/sample-entries.ts';
import { verifyAuditLog, type VerifyAnchor, type VerifyResult } from '../../src/audit/verify.ts';
import { runAuditCli } from '../../src/cli/audit.ts';

const N = 1000;
let t = Date.parse('2026-05-01T10:00:00Z');
const base = createMemoryAuditLog({ now: () => new Date((t += 1234)) });
for (let i = 0; i < N; i++) base.append(sampleEntry(i));
const LINES: readonly string[] = [...base.lines];
const HEAD: VerifyAnchor = { lastSeq: N, lastHash: base.head()!.hash };

const join1 = (lines: readonly string[]): string => (lines.length === 0 ? '' : lines.join('\n') + '\n');
/** `null` = no anchor. */
const verifyText = (text: string, anchor: VerifyAnchor | null = HEAD): Promise<VerifyResult> =>
  verifyAuditLog(Readable.from([text]), anchor === null ? {} : { expect: anchor });

// ---- tamper bookkeeping ------------------------------------------------------
const tally = new Map<string, { cases: number; detected: number }>();
async function expectDetected(kind: string, text: string, anchor: VerifyAnchor | null = HEAD): Promise<VerifyResult> {
  const r = await verifyText(text, anchor);
  const e = tally.get(kind) ?? { cases: 0, detected: 0 };
  e.cases++;
  if (!r.ok) e.detected++;
  tally.set(kind, e);
  expect(r.ok, `${kind} not detected`).toBe(false);
  expect(r.firstBadLine).toBeGreaterThanOrEqual(1);
  expect(r.problem).toBeTruthy();
  return r;
}

afterAll(() => {
  let cases = 0;
  let detected = 0;
  const rows = [...tally].map(([k, v]) => {
    cases += v.cases;
    detected += v.detected;
    return `  ${k.padEnd(44)} ${String(v.detected).padStart(5)} / ${v.cases}`;
  });
  console.log(`audit tamper tests (log of ${N} records):\n${rows.join('\n')}\n  ${'TOTAL'.padEnd(44)} ${String(detected).padStart(5)} / ${cases} detected (${((100 * detected) / Math.max(1, cases)).toFixed(1)}%)`);
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths to every leaf (and every object member) of a parsed record. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const out: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) out.push(...paths(x, [...prefix, k]));
  return out;
}

function mutate(old: Json, pick: number, s: string): Json {
  if (typeof old === 'string') return pick % 2 === 0 ? old + (s || 'x') : (s === old ? s + 'y' : s);
  if (typeof old === 'number') return old + (pick % 2 === 0 ? 1 : -(pick % 1000) - 1);
  if (typeof old === 'boolean') return !old;
  if (old === null) return s.length > 0 ? s : 0;
  if (Array.isArray(old)) return pick % 2 === 0 ? [...old, s] : old.slice(1);
  return { ...old, [`k${s}`]: pick };
}

function setAt(root: Json, path: (string | number)[], value: Json): void {
  let cur = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, Json>;
  cur[path[path.length - 1]!] = value;
}

const idx = fc.integer({ min: 0, max: N - 1 });

describe('verifyAuditLog: no false positives', () => {
  it('should accept the untampered 1,000-record log (with and without anchor)', async () => {
    expect(await verifyText(join1(LINES))).toMatchObject({ ok: true, records: N, last: { seq: N } });
    expect(await verifyText(join1(LINES), null)).toMatchObject({ ok: true, records: N });
    expect(await verifyText('', null)).toMatchObject({ ok: true, records: 0 });
    expect(await verifyText(join1(LINES), { lastSeq: 500, lastHash: base.records[499]!.hash })).toMatchObject({ ok: true });
    expect(await verifyText(join1(LINES), { lastHash: base.records[10]!.hash })).toMatchObject({ ok: true });
  });

  it('should accept any honestly written log, whatever the variables (fast-check)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.jsonValue()), { maxLength: 40 }),
        async (items) => {
          runs++;
          const log = createMemoryAuditLog();
          for (const [i, vars] of items) {
            const e = sampleEntry(i);
            log.append(e.kind === 'graphql' ? { ...e, variables: vars } : e);
          }
          const head = log.head();
          const r = await verifyText(log.text(), head === undefined ? null : { lastSeq: head.seq, lastHash: head.hash });
          expect(r).toMatchObject({ ok: true, records: items.length });
        },
      ),
      { numRuns: 300 },
    );
    console.log(`no false positives on ${runs} random untampered logs`);
  });

  it('should verify records whose variables contain a hash member (slow canonical path)', async () => {
    const log = createMemoryAuditLog();
    const e = sampleEntry(0) as Extract<AuditEntry, { kind: 'graphql' }>;
    log.append(e);
    // a variable that repeats the previous record's ",hash" member text verbatim
    log.append({ ...e, variables: { x: `,"hash":"${log.records[0]!.hash}"`, hash: log.records[0]!.hash } });
    log.append({ ...e, variables: { '10': 1, '9': 2, é: 'ü', '\u2028': '\u0000' } });
    expect(await verifyText(log.text(), { lastSeq: 3, lastHash: log.head()!.hash })).toMatchObject({ ok: true, records: 3 });
  });
});

describe('verifyAuditLog: tampering is detected (100%)', () => {
  it('change one field of a random record (fast-check picks record, field and value)', async () => {
    await fc.assert(
      fc.asyncProperty(idx, fc.nat(), fc.nat(), fc.string({ maxLength: 8 }), async (i, p, pick, s) => {
        const rec = JSON.parse(LINES[i]!) as Json;
        const ps = paths(rec);
        const path = ps[p % ps.length]!;
        let old: Json = rec;
        for (const k of path) old = (old as Record<string | number, Json>)[k]!;
        setAt(rec, path, mutate(old, pick, s));
        const line = canonicalJson(rec);
        fc.pre(line !== LINES[i]);
        const lines = [...LINES];
        lines[i] = line;
        const r = await expectDetected('edit one field (canonical re-serialised)', join1(lines));
        expect(r.firstBadLine).toBe(i + 1);
      }),
      { numRuns: 400 },
    );
  });

  it('remove or add a field, or re-format a record', async () => {
    await fc.assert(
      fc.asyncProperty(idx, fc.nat(), fc.constantFrom('remove', 'add', 'pretty', 'reorder'), async (i, p, how) => {
        const rec = JSON.parse(LINES[i]!) as Record<string, Json>;
        const keys = Object.keys(rec);
        const k = keys[p % keys.length]!;
        let line: string;
        if (how === 'remove') {
          delete rec[k];
          line = canonicalJson(rec);
        } else if (how === 'add') {
          line = canonicalJson({ ...rec, [`extra${p}`]: p });
        } else if (how === 'pretty') {
          line = JSON.stringify(rec, null, 1).replace(/\n/g, '');
        } else {
          line = JSON.stringify(Object.fromEntries(Object.entries(rec).reverse()));
        }
        const lines = [...LINES];
        lines[i] = line;
        await expectDetected({ remove: 'remove a field', add: 'add a field', pretty: 're-format a record (whitespace)', reorder: 're-order the keys of a record' }[how], join1(lines));
      }),
      { numRuns: 200 },
    );
  });

  it('delete a record', async () => {
    await fc.assert(
      fc.asyncProperty(idx, async (i) => {
        const lines = LINES.filter((_, j) => j !== i);
        await expectDetected('delete a record', join1(lines));
        if (i < N - 1) await expectDetected('delete a record (no anchor)', join1(lines), null);
      }),
      { numRuns: 150 },
    );
    // all the ends, explicitly
    for (const i of [0, 1, N - 2, N - 1]) await expectDetected('delete a record', join1(LINES.filter((_, j) => j !== i)));
  });

  it('swap two records / move a record', async () => {
    await fc.assert(
      fc.asyncProperty(idx, idx, fc.boolean(), async (i, j, move) => {
        fc.pre(i !== j);
        const lines = [...LINES];
        if (move) {
          const [x] = lines.splice(i, 1);
          lines.splice(j, 0, x!);
        } else {
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        }
        await expectDetected(move ? 'move a record (reorder)' : 'swap two records', join1(lines), null);
      }),
      { numRuns: 200 },
    );
  });

  it('duplicate a record', async () => {
    await fc.assert(
      fc.asyncProperty(idx, fc.integer({ min: 0, max: N }), async (i, at) => {
        const lines = [...LINES];
        lines.splice(at, 0, LINES[i]!);
        await expectDetected('duplicate a record', join1(lines), null);
      }),
      { numRuns: 150 },
    );
  });

  it('insert a forged record with a correct own hash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: N - 1 }), fc.nat(), async (at, e) => {
        const prev = at === 0 ? '0'.repeat(64) : base.records[at - 1]!.hash;
        const { line } = sealRecord(sampleEntry(e), at + 1, new Date().toISOString(), prev);
        const lines = [...LINES];
        lines.splice(at, 0, line);
        await expectDetected('insert a forged, self-consistent record', join1(lines), null);
      }),
      { numRuns: 150 },
    );
  });

  it('truncate at a record boundary (detected through the head anchor only)', async () => {
    let undetectedWithoutAnchor = 0;
    for (let keep = 0; keep < N; keep += keep < 10 ? 1 : 37) {
      const text = join1(LINES.slice(0, keep));
      const r = await expectDetected('truncate at a record boundary (anchor)', text);
      expect(r.problem).toMatch(/truncated/);
      if ((await verifyText(text, null)).ok) undetectedWithoutAnchor++;
    }
    // Honest about the limit: without an anchor the shortened chain is still a valid chain.
    expect(undetectedWithoutAnchor).toBeGreaterThan(0);
  });

  it('truncate mid-line (detected with and without the anchor)', async () => {
    const text = join1(LINES);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: text.length - 1 }), async (cut) => {
        fc.pre(text[cut - 1] !== '\n');
        const r = await expectDetected('truncate mid-line (no anchor)', text.slice(0, cut), null);
        expect(r.problem).toMatch(/truncated|invalid JSON/);
        await expectDetected('truncate mid-line (anchor)', text.slice(0, cut));
      }),
      { numRuns: 150 },
    );
    // Cutting exactly the final newline leaves a complete record: still flagged.
    await expectDetected('truncate mid-line (no anchor)', text.slice(0, -1), null);
  });

  it('append a forged record without the right hash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.stringMatching(/^[0-9a-f]{64}$/), fc.boolean(), async (e, fake, rightPrev) => {
        const prev = rightPrev ? HEAD.lastHash! : sha256Hex(fake);
        const { record } = sealRecord(sampleEntry(e), N + 1, new Date().toISOString(), prev);
        const forgedHash = fake.toLowerCase() === record.hash ? sha256Hex('x') : fake.toLowerCase();
        const line = canonicalJson({ ...record, hash: forgedHash });
        await expectDetected('append a forged record', join1([...LINES, line]), null);
      }),
      { numRuns: 100 },
    );
  });

  it('edit a record AND recompute its own hash', async () => {
    await fc.assert(
      fc.asyncProperty(idx, fc.string({ minLength: 1, maxLength: 10 }), async (i, s) => {
        const rec = JSON.parse(LINES[i]!) as Record<string, unknown>;
        const { hash: _old, seq, at, prevHash, ...entry } = rec;
        const edited = { ...entry, kind: 'subscription-end', id: `forged-${s}`, reason: 'complete' } as AuditEntry;
        const { line } = sealRecord(edited, seq as number, at as string, prevHash as string);
        const lines = [...LINES];
        lines[i] = line;
        const r = await expectDetected('edit + recompute own hash', join1(lines));
        // caught by the next record's prevHash, or by the head anchor for the last one
        expect(r.firstBadLine).toBe(i === N - 1 ? N : i + 2);
      }),
      { numRuns: 150 },
    );
    // Also the last record specifically.
    const rec = JSON.parse(LINES[N - 1]!) as { seq: number; at: string; prevHash: string };
    const { line } = sealRecord(sampleEntry(7), rec.seq, rec.at, rec.prevHash);
    await expectDetected('edit + recompute own hash', join1([...LINES.slice(0, -1), line]));
  });

  it('invalid JSON and blank lines', async () => {
    await fc.assert(
      fc.asyncProperty(idx, fc.string({ maxLength: 20 }), fc.constantFrom('replace', 'insert', 'blank', 'append-bytes'), async (i, junk, how) => {
        const lines = [...LINES];
        if (how === 'replace') lines[i] = `{${junk}`;
        else if (how === 'insert') lines.splice(i, 0, `not json ${junk}`);
        else if (how === 'blank') lines.splice(i, 0, '');
        else lines[i] = `${lines[i]!}}`;
        await expectDetected('invalid JSON / blank line', join1(lines), null);
      }),
      { numRuns: 100 },
    );
  });
});

describe('verify from files, head checkpoint and CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'switchyard-audit-verify-'));
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('should use <log>.head by default, and report a malformed head', async () => {
    const path = join(dir, 'a.jsonl');
    await fsp.writeFile(path, join1(LINES.slice(0, 900)));
    await fsp.writeFile(headPathFor(path), JSON.stringify({ seq: N, hash: HEAD.lastHash, at: 'x' }));
    const r = await verifyAuditLog(path);
    expect(r).toMatchObject({ ok: false, records: 900, firstBadLine: 901, anchor: { source: 'head' } });
    expect(r.problem).toMatch(/truncated: the log ends at seq 900 but the head checkpoint says seq 1000/);
    expect(await verifyAuditLog(path, { headFile: false })).toMatchObject({ ok: true, records: 900 });
    await fsp.writeFile(headPathFor(path), 'garbage');
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, problem: expect.stringMatching(/malformed/) });
  });

  it('should run `audit verify` with exit codes 0 / 1 / 2', async () => {
    const path = join(dir, 'b.jsonl');
    await fsp.writeFile(path, join1(LINES));
    await fsp.writeFile(headPathFor(path), JSON.stringify({ seq: N, hash: HEAD.lastHash, at: 'x' }));
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
    expect(await runAuditCli(['verify', path], io)).toBe(0);
    expect(out.pop()).toMatch(/^OK 1000 records, \d+ records\/s\n$/);

    const lines = [...LINES];
    [lines[10], lines[11]] = [lines[11]!, lines[10]!];
    await fsp.writeFile(path, join1(lines));
    expect(await runAuditCli(['verify', path], io)).toBe(1);
    expect(out.pop()).toMatch(/^TAMPERED at line 11: seq gap/);

    await fsp.writeFile(path, join1(LINES.slice(0, 999)));
    expect(await runAuditCli(['verify', path], io)).toBe(1);
    expect(out.pop()).toMatch(/^TAMPERED at line 1000: truncated/);
    expect(await runAuditCli(['verify', path, '--no-head'], io)).toBe(0);
    expect(err.pop()).toMatch(/no head checkpoint/);
    expect(await runAuditCli(['verify', path, '--no-head', '--expect-seq', '1000'], io)).toBe(1);
    expect(await runAuditCli(['verify', path, '--json'], io)).toBe(1);
    expect(JSON.parse(out.pop()!)).toMatchObject({ ok: false, firstBadLine: 1000 });

    expect(await runAuditCli(['verify', join(dir, 'missing.jsonl')], io)).toBe(1);
    expect(out.pop()).toMatch(/^TAMPERED at line 1: cannot read the log/);
    expect(await runAuditCli([], io)).toBe(2);
    expect(await runAuditCli(['verify'], io)).toBe(2);
    expect(await runAuditCli(['check', path], io)).toBe(2);
    expect(await runAuditCli(['verify', path, '--expect-hash', 'nope'], io)).toBe(2);
  });

  it('should verify 50,000 records from a file and report the rate', async () => {
    const path = join(dir, 'big.jsonl');
    const { bytes } = await writeSampleLog(path, 50_000);
    const r = await verifyAuditLog(path);
    expect(r).toMatchObject({ ok: true, records: 50_000, anchor: { source: 'head', lastSeq: 50_000 } });
    console.log(`audit verify: 50,000 records (${(bytes / 1e6).toFixed(1)} MB) at ${r.recordsPerSecond} records/s`);
  });
});
