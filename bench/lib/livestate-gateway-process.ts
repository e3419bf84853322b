/**
 * Benchmark child for the live-state scenario: the CI gateway of
 * bench/lib/ci-gateway-process.ts with its live state filled in-process
 * (bench/lib/livestate-fill.ts) before it listens, then a GC, so the parent
 * reads the filled state's RSS.
 *
 * A request with `x-bench-scan: 1` lists pipelines the way the gateway did
 * before the state had indexes (a walk of every entry, every match kept), so
 * the parent measures both paths on the same filled state in one process.
 * The load sends the header on all of a run's requests or none.
 *
 * Input: env BENCH_GATEWAY = JSON { config: { ...gateway config, backends, benchFill: entities } }.
 */
import { pino } from 'pino';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import type { PipelineModel } from '../../src/model.ts';
import { createGateway } from '../../src/server/create-gateway.ts';
import type { LiveState } from '../../src/state/live-state.ts';
import { serveBenchChild } from './child-lifecycle.ts';
import { fillLiveState } from './livestate-fill.ts';

const input = JSON.parse(process.env.BENCH_GATEWAY ?? 'null') as { config?: Record<string, unknown> } | null;
if (!input?.config) {
  process.stderr.write('BENCH_GATEWAY with a config is not set\n');
  process.exit(2);
}
const { benchFill, benchPolling: _polling, ...raw } = input.config;

const config = validateConfig(
  { logLevel: 'silent', server: { port: 0, host: '127.0.0.1' }, auth: { mode: 'open' }, audit: { file: null }, ...raw },
  adapterFactories,
  'bench',
);
const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });
const state: LiveState = gateway.services.state;

let scanMode = false;
const indexed = state.newestPipelines.bind(state);
state.newestPipelines = (backend, o) => {
  if (!scanMode) return indexed(backend, o);
  // The pre-index listPipelines: every entry walked, every match kept for the page's sort.
  const out: PipelineModel[] = [];
  for (const p of state.scan('Pipeline', backend)) {
    if (!o.skip?.(p.nativeId) && o.matches(p) && Date.parse(p.createdAt) >= (o.notBefore ?? -Infinity)) out.push(p);
  }
  return out;
};

const backends = config.backends.map((b) => ({ name: b.name, provider: b.provider as 'github' | 'gitlab' }));
fillLiveState(state, backends, Number(benchFill ?? 0), Date.now());
(globalThis as { gc?: () => void }).gc?.();

await serveBenchChild({
  listen: async () => {
    const port = (await gateway.listen(0, '127.0.0.1')).port;
    gateway.server.prependListener('request', (req) => {
      scanMode = req.headers['x-bench-scan'] === '1';
    });
    return port;
  },
  close: () => gateway.close(),
});
