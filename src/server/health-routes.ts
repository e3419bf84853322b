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
  /** The durable history's state: reported, never a reason to be unready (it is not on the live path). */
  readonly history?: () => Promise<HistoryStatus>;
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
      sendJson(res, ready && !load.overloaded ? 200 : 503, {
        status: !ready ? 'not ready' : load.overloaded ? 'overloaded' : 'ready', backends, load, ...connections,
        requestBodies: { reading: deps.bodySlots.size, limit: deps.bodySlots.limit }, audit: deps.auditIntact() ? 'ok' : 'integrity-alarm', ...history,
      });
    },
  };
}
