/**
 * Throughput of `audit verify`: writes N chained records (default 1,000,000)
 * to a temp file, verifies it, prints records/s; `--hmac` keys the chain
 * (config `audit.hmacKey`) and verifies with the key.
 *
 *   npx tsx src/audit/bench-verify.ts [records] [--hmac]
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, recordDigest, sealRecord } from './audit-record.ts';
import { headMac, headPathFor } from './audit-log.ts';
import { sampleEntry } from './sample-entries.ts';
import { verifyAuditLog } from './verify.ts';

export async function writeSampleLog(
  path: string,
  count: number,
  start = Date.parse('2026-01-01T00:00:00Z'),
  hmacKey?: string,
): Promise<{ seq: number; hash: string; bytes: number }> {
  const out = createWriteStream(path);
  const digest = recordDigest(hmacKey);
  let prev = GENESIS_HASH;
  let bytes = 0;
  let chunk: string[] = [];
  for (let i = 1; i <= count; i++) {
    const { record, line } = sealRecord(sampleEntry(i), i, new Date(start + i * 10).toISOString(), prev, digest);
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
  const mac = hmacKey === undefined ? {} : { mac: headMac(hmacKey, count, prev) };
  await fsp.writeFile(headPathFor(path), JSON.stringify({ seq: count, hash: prev, at: new Date().toISOString(), ...mac }) + '\n');
  return { seq: count, hash: prev, bytes };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const count = Number(args.find((a) => !a.startsWith('--')) ?? 1_000_000);
  const hmacKey = args.includes('--hmac') ? 'bench-audit-key-0123456789abcdefghij' : undefined;
  const dir = await fsp.mkdtemp(join(tmpdir(), 'switchyard-audit-bench-'));
  const path = join(dir, 'audit.jsonl');
  try {
    const t0 = performance.now();
    const { bytes } = await writeSampleLog(path, count, undefined, hmacKey);
    const writeS = (performance.now() - t0) / 1000;
    console.log(`wrote ${count} records (${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / count)} B/record) in ${writeS.toFixed(1)} s (${Math.round(count / writeS)} records/s sealed)`);
    // CPU time too: on a shared machine the wall-clock rate mostly measures the other load.
    const cpu0 = process.cpuUsage();
    const r = await verifyAuditLog(path, hmacKey === undefined ? {} : { hmacKey });
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    if (!r.ok) throw new Error(`verify failed: line ${r.firstBadLine}: ${r.problem}`);
    console.log(`verify${hmacKey === undefined ? '' : ' (HMAC)'}: OK ${r.records} records, ${r.recordsPerSecond} records/s (${((bytes / 1e6) * (r.recordsPerSecond / count)).toFixed(1)} MB/s), anchored at head seq ${r.anchor?.lastSeq}; ${Math.round(r.records / cpuS)} records per CPU-second`);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
