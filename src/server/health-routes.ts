import type { BackendRegistry } from '../backend-registry.ts';
import type { HistoryStatus } from '../history/history-service.ts';
import type { BodySlots } from './body-slots.ts';
import type { ConnectionCapacity } from './connection-capacity.ts';
import type { GatewayRoute } from './gateway-plugin.ts';
import { sendJson } from './http-json.ts';
import type { LoadShedder } from './load-shedding.ts';

export interface HealthDeps {
  readonly registry: BackendRegistry;
  readonly shedder: LoadShedder;
  readonly bodySlots: BodySlots;
  /** False before listen() and once close() began. */
  readonly ready: () => boolean;
  /** The connection cap and file-descriptor watch, once listening. */
  readonly capacity: () => ConnectionCapacity | null;
  readonly auditIntact: () => boolean;
  /** The durable history's state: reported; a reason to be unready only with `requirements.history`. */
  readonly history?: () => Promise<HistoryStatus>;
  /** Opt-in reasons to be unready (`server.readiness`); by default neither, since live reads still serve. */
  readonly requirements?: { readonly backend: boolean; readonly history: boolean };
}

/** What an opted-in requirement finds missing: every backend DOWN, or the history not usable. */
function unmetRequirements(deps: HealthDeps, backends: Record<string, string>, history: HistoryStatus | undefined): string[] {
  const unmet: string[] = [];
  const states = Object.values(backends);
  if (deps.requirements?.backend && states.length > 0 && states.every((s) => s === 'DOWN')) unmet.push('every backend is DOWN');
  if (deps.requirements?.history && history && history.state !== 'ok' && history.state !== 'off') unmet.push(`history is ${history.state}${history.cause ? `: ${history.cause}` : ''}`);
  return unmet;
}

/** `/healthz` (the process answers) and `/readyz` (send traffic here: started, not overloaded; with what each part reports). */
export function createHealthRoutes(deps: HealthDeps): GatewayRoute {
  return {
    handles: (pathname) => pathname === '/healthz' || pathname === '/readyz',
    async handle(_req, res, url) {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      const backends = Object.fromEntries(deps.registry.all().map((b) => [b.name, b.health.current.state]));
      const load = deps.shedder.current;
      const capacity = deps.capacity();
      const connections = capacity ? { connections: await capacity.health() } : {};
      const history = deps.history ? { history: await deps.history() } : {};
      const ready = deps.ready();
      const unmet = unmetRequirements(deps, backends, history.history);
      sendJson(res, ready && !load.overloaded && unmet.length === 0 ? 200 : 503, {
        status: !ready ? 'not ready' : load.overloaded ? 'overloaded' : unmet.length > 0 ? 'degraded' : 'ready',
        ...(unmet.length > 0 ? { unmet } : {}), backends, load, ...connections,
        requestBodies: { reading: deps.bodySlots.size, limit: deps.bodySlots.limit }, audit: deps.auditIntact() ? 'ok' : 'integrity-alarm', ...history,
      });
    },
  };
}
