/**
 * What OpenTelemetry tracing costs the gateway's CPU (issue 14), standalone:
 * `npx tsx bench/tracing-overhead.ts [--batches=20] [--queries=100] [--events=500] [--subs=200]`.
 * Tracing on (every trace sampled, pipelines exported, to an OTLP sink in this process that
 * discards what it reads) vs off, metrics on for both, by the A/B in bench/lib/overhead-ab.ts
 * (half the fan-out changes finish a pipeline-less job).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOverheadAB } from './lib/overhead-ab.ts';

// The collector: reads and drops each export (its serialization and sending are the gateway's cost).
let exports = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => (exports++, res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;

await runOverheadAB({
  title: 'tracing overhead',
  feature: (on) => ({ tracing: { enabled: on, endpoint, exportPipelines: true } }),
  summary: () => `${exports} OTLP exports received`,
});
sink.close();
process.exit(0);
