/**
 * What /metrics costs the gateway's CPU (issue 14), standalone:
 * `npx tsx bench/metrics-overhead.ts [--batches=20] [--queries=100] [--events=500] [--subs=200]`.
 * Metrics on vs off, by the A/B in bench/lib/overhead-ab.ts (queries; fan-out, which covers
 * the ingest path, the bus and the CI metrics).
 */
import { runOverheadAB } from './lib/overhead-ab.ts';

await runOverheadAB({ title: 'metrics overhead', feature: (on) => ({ metrics: { enabled: on } }) });
process.exit(0);
