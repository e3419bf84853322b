/**
 * Notifications end to end (issue 16): from the simulator's last webhook of a run to the signed
 * message's acceptance by a loopback receiver, through the whole gateway: ingest, the rule engine
 * (its 2 s settle included: a finish waits for its jobs' events, so messages name failing jobs),
 * the outbox on the PostgreSQL at 127.0.0.1:5432 (a schema of its own, dropped after) and the
 * `webhook` sink. Runs alternate failure and success on one branch, so each run is a `failed` or
 * a `fixed`. Reported: p50/p95/max of webhook → acceptance, and of detection → acceptance.
 *   npx tsx bench/notify-end-to-end.ts [runs=20]
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { startStack } from '../test/helpers/stack.ts';

const runs = Number(process.argv[2] ?? 20);
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Arrival { readonly at: number; readonly trigger: string; readonly detectedAt: string }

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  const schema = `notify_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const verifier = new Webhook(SECRET);
  const arrivals: Arrival[] = [];
  let wake: (() => void) | null = null;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const payload = verifier.verify(Buffer.concat(chunks).toString('utf8'), headers) as { data: { trigger: string; detectedAt: string } };
      arrivals.push({ at: Date.now(), trigger: payload.data.trigger, detectedAt: payload.data.detectedAt });
      res.writeHead(204).end();
      wake?.();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const stack = await startStack({
    sim: { repositories: ['api'], history: 0 },
    config: {
      history: { url: { value: `${POSTGRES}?options=${encodeURIComponent(`-c search_path=${schema}`)}` }, backfill: { enabled: false } },
      notifications: {
        sinks: [{ name: 'hook', type: 'webhook', url, secret: { value: SECRET }, ratePerMinute: 60_000 }],
        rules: [{ name: 'ci', match: { pipelines: ['CI'] }, on: ['failed', 'fixed'], sinks: ['hook'] }],
      },
    },
  });
  try {
    await stack.gateway.history.ready;
    const endToEnd: number[] = [];
    const delivery: number[] = [];
    // A green run first: the branch's known past, so the first red one is a `failed`.
    await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: 'success' }] });
    await stack.sim.runUntilIdle();
    for (let i = 0; i < runs; i++) {
      const expected = arrivals.length + 1;
      const arrived = new Promise<void>((resolve) => (wake = () => arrivals.length >= expected && resolve()));
      await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'test', outcome: i % 2 === 0 ? 'failure' : 'success' }] });
      await stack.sim.runUntilIdle(); // every webhook of the run sent (and acknowledged)
      const sent = Date.now();
      await arrived;
      const last = arrivals.at(-1)!;
      endToEnd.push(last.at - sent);
      delivery.push(last.at - Date.parse(last.detectedAt));
    }
    const show = (name: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      console.log(`${name}: p50 ${percentile(sorted, 0.5)} ms, p95 ${percentile(sorted, 0.95)} ms, max ${sorted.at(-1)} ms`);
    };
    const triggers = arrivals.reduce<Record<string, number>>((n, a) => ({ ...n, [a.trigger]: (n[a.trigger] ?? 0) + 1 }), {});
    console.log(`${runs} runs, messages: ${JSON.stringify(triggers)}`);
    show('last webhook of a run -> message accepted', endToEnd);
    show('detection (the finish ingested) -> message accepted', delivery);
  } finally {
    await stack.close();
    receiver.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

await main();
