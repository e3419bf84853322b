import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuditLog, headPathFor, parseHead, type AuditHead } from '../../src/audit/audit-log.ts';
import { GENESIS_HASH, sealRecord, type AuditEntry } from '../../src/audit/audit-record.ts';
import { sampleEntry } from '../../src/audit/sample-entries.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { runAuditCli } from '../../src/cli/audit.ts';

/**
 * The ten tamper cases of the audit review, each done the way an attacker who
 * can write the files but does not hold the audit key would do it. With the key
 * all ten must be detected; without it the table states which are (and which
 * cannot be, from the files alone).
 */
const KEY = 'audit-key-for-tests-0123456789abcdef';
const N = 50;

interface Files {
  lines: string[];
  head: AuditHead | undefined;
}

/** Re-seals records from index `from` on with SHA-256 (all an attacker without the key can compute). */
function rebuildFrom(lines: string[], from: number, edit?: (entry: AuditEntry) => AuditEntry): string[] {
  const out = lines.slice(0, from);
  let prev = from === 0 ? GENESIS_HASH : (JSON.parse(lines[from - 1]!) as { hash: string }).hash;
  for (let i = from; i < lines.length; i++) {
    const { seq, at, prevHash: _p, hash: _h, ...entry } = JSON.parse(lines[i]!) as Record<string, unknown>;
    const sealed = sealRecord((i === from && edit ? edit(entry as unknown as AuditEntry) : entry) as AuditEntry, seq as number, at as string, prev);
    prev = sealed.record.hash;
    out.push(sealed.line);
  }
  return out;
}
const hashOf = (line: string) => (JSON.parse(line) as { hash: string }).hash;
const forged = (e: AuditEntry): AuditEntry => ({ ...e, kind: 'subscription-end', id: 'forged', reason: 'complete' } as AuditEntry);

type Tamper = (f: Files) => Files | 'restart-truncated' | 'restart-truncated-no-head';
const CASES: Array<{ name: string; tamper: Tamper; detectedWithoutKey: boolean }> = [
  { name: 'edit a record', detectedWithoutKey: true, tamper: (f) => ({ ...f, lines: f.lines.map((l, i) => (i === 10 ? l.replace('"seq":11', '"seq":11,"x":1') : l)) }) },
  { name: 'delete a record', detectedWithoutKey: true, tamper: (f) => ({ ...f, lines: f.lines.filter((_, i) => i !== 10) }) },
  {
    name: 'insert a record', detectedWithoutKey: true,
    tamper: (f) => ({ ...f, lines: [...f.lines.slice(0, 10), sealRecord(sampleEntry(3), 11, '2026-05-01T10:00:00.000Z', hashOf(f.lines[9]!)).line, ...f.lines.slice(10)] }),
  },
  { name: 'reorder records', detectedWithoutKey: true, tamper: (f) => ({ ...f, lines: [...f.lines.slice(0, 10), f.lines[11]!, f.lines[10]!, ...f.lines.slice(12)] }) },
  { name: 'truncate the tail', detectedWithoutKey: true, tamper: (f) => ({ ...f, lines: f.lines.slice(0, N - 5) }) },
  {
    name: 'truncate + rewrite the head to fit', detectedWithoutKey: false,
    tamper: (f) => ({ lines: f.lines.slice(0, N - 5), head: { ...f.head!, seq: N - 5, hash: hashOf(f.lines[N - 6]!) } }),
  },
  { name: 'delete the head', detectedWithoutKey: true, tamper: (f) => ({ ...f, head: undefined }) },
  {
    // Move the head back, then edit and re-hash what follows it.
    name: 'rewrite the head (and the records after it)', detectedWithoutKey: false,
    tamper: (f) => ({ lines: rebuildFrom(f.lines, N - 2, forged), head: { ...f.head!, seq: N - 5, hash: hashOf(f.lines[N - 6]!) } }),
  },
  { name: 'restart on a truncated log', detectedWithoutKey: true, tamper: () => 'restart-truncated' },
  { name: 'restart on a truncated log, head deleted', detectedWithoutKey: true, tamper: () => 'restart-truncated-no-head' },
  {
    name: 'rebuild the chain without the key', detectedWithoutKey: false,
    tamper: (f) => {
      const lines = rebuildFrom(f.lines, 10, forged);
      const { mac: _m, ...head } = f.head!;
      return { lines, head: { ...head, hash: hashOf(lines[N - 1]!) } };
    },
  },
];

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'switchyard-audit-tamper-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const tally: string[] = [];
afterAll(() => console.log(`audit tamper cases (detected?):\n  ${'case'.padEnd(46)} with key  without key\n${tally.join('\n')}`));

async function writeLog(path: string, key: string | undefined): Promise<Files> {
  const log = createFileAuditLog(path, { ...(key ? { hmacKey: key } : {}), headEvery: 1_000_000 });
  for (let i = 0; i < N; i++) log.append(sampleEntry(i));
  await log.close();
  return { lines: (await fsp.readFile(path, 'utf8')).trimEnd().split('\n'), head: parseHead(await fsp.readFile(headPathFor(path), 'utf8')) };
}

async function store(path: string, f: Files): Promise<void> {
  await fsp.writeFile(path, f.lines.join('\n') + '\n');
  if (f.head) await fsp.writeFile(headPathFor(path), JSON.stringify(f.head) + '\n');
  else await fsp.rm(headPathFor(path), { force: true });
}

/** Tampers with a fresh log; returns whether verify (and, on a restart, the writer's alarm) caught it. */
async function detected(name: string, tamper: Tamper, key: string | undefined): Promise<boolean> {
  const path = join(dir, `${name.replace(/\W+/g, '-')}-${key ? 'keyed' : 'plain'}.jsonl`);
  const files = await writeLog(path, key);
  const tampered = tamper(files);
  let alarmed = true;
  if (typeof tampered === 'string') {
    await store(path, { lines: files.lines.slice(0, N - 5), head: tampered === 'restart-truncated' ? files.head : undefined });
    const problems: string[] = [];
    const restarted = createFileAuditLog(path, { ...(key ? { hmacKey: key } : {}), onIntegrityProblem: (p) => problems.push(p) });
    for (let i = 0; i < 3; i++) restarted.append(sampleEntry(i));
    await restarted.close();
    alarmed = !restarted.integrity().ok && problems.length === 1;
    const records = (await fsp.readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string });
    if (alarmed) expect(records[N - 5]?.kind).toBe('audit-integrity');
  } else {
    await store(path, tampered);
  }
  const result = await verifyAuditLog(path, key ? { hmacKey: key } : {});
  return alarmed && !result.ok;
}

describe('audit tamper cases', () => {
  it.each(CASES)('$name: detected with the key; without it as the table says', async ({ name, tamper, detectedWithoutKey }) => {
    const withKey = await detected(name, tamper, KEY);
    const withoutKey = await detected(name, tamper, undefined);
    tally.push(`  ${name.padEnd(46)} ${withKey ? 'yes' : 'NO '}       ${withoutKey ? 'yes' : 'no'}`);
    expect(withKey).toBe(true);
    expect(withoutKey).toBe(detectedWithoutKey);
  });

  it('should accept the untampered log with its key, and refuse it without the key or with another key', async () => {
    const path = join(dir, 'honest.jsonl');
    await writeLog(path, KEY);
    expect(await verifyAuditLog(path, { hmacKey: KEY })).toMatchObject({ ok: true, records: N, anchor: { source: 'head', lastSeq: N } });
    expect((await verifyAuditLog(path)).problem).toMatch(/keyed/);
    expect((await verifyAuditLog(path, { hmacKey: `${KEY}x` })).problem).toMatch(/not authenticated/);
    // The writer continues a keyed log across restarts without an alarm.
    const again = createFileAuditLog(path, { hmacKey: KEY });
    again.append(sampleEntry(1));
    await again.close();
    expect(again.integrity()).toEqual({ ok: true });
    expect(await verifyAuditLog(path, { hmacKey: KEY })).toMatchObject({ ok: true, records: N + 1 });
    // An honest unkeyed log reopened with a key is flagged: it could be a rebuilt one.
    const plain = join(dir, 'plain.jsonl');
    await writeLog(plain, undefined);
    const keyedReopen = createFileAuditLog(plain, { hmacKey: KEY, onIntegrityProblem: () => undefined });
    await keyedReopen.close();
    expect(keyedReopen.integrity().ok).toBe(false);
  });

  it('should take the key from the environment in `audit verify --key-env`', async () => {
    const path = join(dir, 'cli.jsonl');
    await writeLog(path, KEY);
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), env: { AUDIT_KEY: KEY } };
    expect(await runAuditCli(['verify', path, '--key-env', 'AUDIT_KEY'], io)).toBe(0);
    expect(await runAuditCli(['verify', path], io)).toBe(1);
    expect(out.pop()).toMatch(/keyed/);
    expect(await runAuditCli(['verify', path, '--key-env', 'UNSET_KEY'], io)).toBe(2);
    await fsp.rm(headPathFor(path));
    expect(await runAuditCli(['verify', path, '--key-env', 'AUDIT_KEY'], io)).toBe(1);
    expect(out.pop()).toMatch(/no head checkpoint/);
  });
});
