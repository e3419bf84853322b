/**
 * Throughput of `audit verify`: writes N chained records (default 1,000,000)
 * to a temp file, verifies it, prints records/s.
 *
 *   npx tsx src/audit/bench-verify.ts [records]
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, sealRecord } from './audit-record.ts';
import { headPathFor } from './audit-log.ts';
import { sampleEntry } from './sample-entries.ts';
import { verifyAuditLog } from './verify.ts';

export async function writeSampleLog(path: string, count: number, start = Date.parse('2026-01-01T00:00:00Z')): Promise<{ seq: number; hash: string; bytes: number }> {
  const out = createWriteStream(path);
  let prev = GENESIS_HASH;
  let bytes = 0;
  let chunk: string[] = [];
  for (let i = 1; i <= count; i++) {
    const { record, line } = sealRecord(sampleEntry(i), i, new Date(start + i * 10).toISOString(), prev);
    prev = record.hash;
    chunk.push(line);
    if (chunk.length === 5_000 || i === count) {
      const text = chunk.join('\n') + '\n';
      bytes += Buffer.byteLength(text);
      chunk = [];
      if (!out.write(text)) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  await fsp.writeFile(headPathFor(path), JSON.stringify({ seq: count, hash: prev, at: new Date().toISOString() }) + '\n');
  return { seq: count, hash: prev, bytes };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1_000_000);
  const dir = await fsp.mkdtemp(join(tmpdir(), 'switchyard-audit-bench-'));
  const path = join(dir, 'audit.jsonl');
  try {
    const t0 = performance.now();
    const { bytes } = await writeSampleLog(path, count);
    const writeS = (performance.now() - t0) / 1000;
    console.log(`wrote ${count} records (${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / count)} B/record) in ${writeS.toFixed(1)} s (${Math.round(count / writeS)} records/s sealed)`);
    const r = await verifyAuditLog(path);
    if (!r.ok) throw new Error(`verify failed: line ${r.firstBadLine}: ${r.problem}`);
    console.log(`verify: OK ${r.records} records, ${r.recordsPerSecond} records/s (${((bytes / 1e6) * (r.recordsPerSecond / count)).toFixed(1)} MB/s), anchored at head seq ${r.anchor?.lastSeq}`);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
