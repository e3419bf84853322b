import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendRegistry, type BackendEntry } from '../../src/backend-registry.ts';
import { BackendHealth } from '../../src/health.ts';
import type { HistoryStatus } from '../../src/history/history-service.ts';
import { createHealthRoutes, type HealthDeps } from '../../src/server/health-routes.ts';
import type { LoadShedder } from '../../src/server/load-shedding.ts';
import type { BodySlots } from '../../src/server/body-slots.ts';

/** /readyz over real HTTP, with its parts' states set by hand. */
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function readyz(deps: Partial<HealthDeps> & Pick<HealthDeps, 'registry'>): Promise<{ status: number; body: Record<string, unknown> }> {
  const route = createHealthRoutes({
    shedder: { current: { overloaded: false } } as unknown as LoadShedder,
    bodySlots: { size: 0, limit: 64 } as unknown as BodySlots,
    ready: () => true, capacity: () => null, auditIntact: () => true, ...deps,
  });
  server = createServer((req, res) => void route.handle(req, res, new URL(req.url!, 'http://localhost')));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function backends(...failures: number[]): BackendRegistry {
  return new BackendRegistry(failures.map((n, i) => {
    const health = new BackendHealth(() => new Date());
    health.success();
    for (let k = 0; k < n; k++) health.failure(new Error(`down ${k}`));
    return { name: `b${i}`, health } as unknown as BackendEntry;
  }));
}

const degradedHistory = (): Promise<HistoryStatus> => Promise.resolve({ state: 'degraded', cause: 'connection refused', feed: 'buffer', written: 0 });

describe('/readyz requirements', () => {
  it('by default: ready with every backend DOWN and the history degraded (reported, not a reason)', async () => {
    const { status, body } = await readyz({ registry: backends(3, 3), history: degradedHistory });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', backends: { b0: 'DOWN', b1: 'DOWN' }, history: { state: 'degraded' } });
  });

  it('requireBackend: 503 degraded only while every backend is DOWN', async () => {
    const requirements = { backend: true, history: false };
    expect((await readyz({ registry: backends(3, 1), requirements })).status).toBe(200);
    const down = await readyz({ registry: backends(3, 3), requirements });
    expect(down).toMatchObject({ status: 503, body: { status: 'degraded', unmet: ['every backend is DOWN'] } });
  });

  it('requireHistory: 503 degraded with the cause while the history is not usable; off or ok is fine', async () => {
    const requirements = { backend: false, history: true };
    const degraded = await readyz({ registry: backends(0), requirements, history: degradedHistory });
    expect(degraded).toMatchObject({ status: 503, body: { status: 'degraded', unmet: ['history is degraded: connection refused'] } });
    expect((await readyz({ registry: backends(0), requirements, history: () => Promise.resolve({ state: 'off', feed: 'buffer', written: 0 }) })).status).toBe(200);
    expect((await readyz({ registry: backends(0), requirements, history: () => Promise.resolve({ state: 'ok', feed: 'buffer', written: 5 }) })).status).toBe(200);
  });
});
