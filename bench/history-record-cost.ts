/**
 * What recording costs per observation on embedded PGlite (issue 13, the live path): small
 * batches as the write-behind buffer sends them at 50 webhooks/s (5 jobs per 100 ms), each
 * job seen 4 times (queued, in progress, completed), with its project's full name.
 * Reports, per observation: the gateway's main thread busy time (event-loop utilization:
 * messaging, building statements, cloning), the gateway process's CPU, and the PGlite
 * process's CPU (its SQL and garbage collection; /proc/<pid>/stat, Linux).
 *   npx tsx bench/history-record-cost.ts [--batch=5] [--batches=400]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SqlHistoryStore, type Observation } from '../src/history/history-store.ts';
import { openPgliteDriver, pgliteProcessOf } from '../src/history/pglite-driver.ts';
import type { JobModel } from '../src/model.ts';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const BATCH = arg('batch', 5);
const BATCHES = arg('batches', 400);

/** A process's CPU time in ms (user + system; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function observation(i: number): Observation {
  const seen = i % 4;
  const job: JobModel = {
    type: 'Job', backend: 'github', nativeId: `${1_000_000 + Math.floor(i / 4)}`, revision: [Date.UTC(2026, 0, 1) + i, seen], projectNativeId: 'acme/api',
    pipelineNativeId: `${5_000_000 + Math.floor(i / 40)}`, name: `test-${i % 7}`, status: seen === 3 ? 'SUCCESS' : seen === 0 ? 'QUEUED' : 'RUNNING', waitReason: null,
    native: { provider: 'github', status: seen === 3 ? 'completed' : 'in_progress', conclusion: seen === 3 ? 'success' : null, failureReason: null }, attempt: 1,
    url: `https://github.com/acme/api/actions/runs/${i}`, labels: ['ubuntu-latest', 'x64'], runnerNativeId: seen ? '17' : null, runnerName: seen ? 'runner-17' : null,
    branch: 'main', createdAt: '2026-01-01T10:00:00.000Z', queuedAt: '2026-01-01T10:00:00.000Z', startedAt: seen ? '2026-01-01T10:00:05.000Z' : null,
    finishedAt: seen === 3 ? '2026-01-01T10:01:05.000Z' : null, steps: [],
  };
  return { entity: job, observedAt: new Date(Date.UTC(2026, 0, 1, 10) + i).toISOString(), projectFullName: 'acme/api' };
}

async function main(): Promise<void> {
  const driver = await openPgliteDriver();
  const store = new SqlHistoryStore(driver);
  await store.migrate();
  const pglitePid = pgliteProcessOf(driver)!.pid!;
  let i = 0;
  const next = () => Array.from({ length: BATCH }, () => observation(i++));
  for (let b = 0; b < 50; b++) await store.record(next()); // warm-up: JIT, PGlite's caches
  const main0 = performance.eventLoopUtilization();
  const work0 = processCpuMs(pglitePid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let b = 0; b < BATCHES; b++) await store.record(next());
  const wall = performance.now() - t0;
  const mainBusy = performance.eventLoopUtilization(main0).active;
  const workCpu = processCpuMs(pglitePid) - work0;
  const cpu = process.cpuUsage(cpu0);
  const n = BATCH * BATCHES;
  const per = (ms: number) => `${((ms * 1000) / n).toFixed(0)} µs`;
  console.log(`${n} observations in batches of ${BATCH}: wall ${per(wall)}, main thread busy ${per(mainBusy)}, gateway CPU ${per((cpu.user + cpu.system) / 1000)}, PGlite process CPU ${per(workCpu)} per observation`);
  await store.close();
}

await main();
