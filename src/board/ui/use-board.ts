import { useEffect, useState } from 'preact/hooks';
import { CredentialRefused, GatewayApi } from './api.ts';
import { filtersQuery, projectPatterns, type BoardFilters } from './filters.ts';
import { BoardModel } from './model.ts';
import { BOARD_QUERY, latestOfProjects, PIPELINE_EVENTS, POOL_EVENTS, POOL_PRESSURE_QUERY, POOLS_QUERY, RED_SINCE_QUERY } from './queries.ts';
import type { BackendRef, BoardData, Pipeline, PipelineEvent, Pool, RedSinceData } from './types.ts';

export interface BoardState {
  readonly api: GatewayApi | null;
  readonly model: BoardModel | null;
  readonly backends: readonly BackendRef[];
  readonly pressure: ReadonlyMap<string, number[]>;
  readonly live: boolean;
  readonly error: string | null;
  readonly version: number;
}

const LATEST_BATCH = 10;

async function fillMissing(api: GatewayApi, model: BoardModel): Promise<void> {
  const missing = model.missing();
  for (let i = 0; i < missing.length; i += LATEST_BATCH) {
    const batch = missing.slice(i, i + LATEST_BATCH);
    const variables = Object.fromEntries(batch.flatMap((p, j) => [[`id${j}`, p.id], [`b${j}`, model.wallBranch(p)]]));
    const data = await api.query<Record<string, { pipelines?: { nodes: Pipeline[] } } | null>>(latestOfProjects(batch.length), variables);
    for (const entry of Object.values(data)) for (const p of entry?.pipelines?.nodes ?? []) model.placeOnWall(p);
  }
}

/**
 * Loads the board for one key and one set of filters, then keeps it live: pipeline events
 * (resumed with `after` across drops) and pool updates. A refused key is reported, not retried.
 */
export function useBoard(active: boolean, key: string | null, filters: BoardFilters, onRefused: (message: string) => void): BoardState {
  const [state, setState] = useState<BoardState>({ api: null, model: null, backends: [], pressure: new Map(), live: false, error: null, version: 0 });
  useEffect(() => {
    if (!active) return;
    const api = new GatewayApi(key, (live) => setState((s) => ({ ...s, live })));
    const model = new BoardModel(filters);
    const bump = (patch: Partial<BoardState> = {}) => setState((s) => ({ ...s, ...patch, version: s.version + 1 }));
    let loaded = false;
    let stopped = false;
    const early: PipelineEvent[] = [];
    const refused = (message: string) => {
      if (!stopped) onRefused(message);
    };
    const pipelineFilter = {
      ...(filters.backend ? { backends: [filters.backend] } : {}),
      ...(projectPatterns(filters).length ? { projectNames: projectPatterns(filters) } : {}),
      ...(filters.branch ? { branch: filters.branch } : {}),
    };
    const poolFilter = filters.backend ? { backends: [filters.backend] } : {};
    const load = async () => {
      const data = await api.query<BoardData>(BOARD_QUERY, {
        pipelines: pipelineFilter,
        projects: filters.backend ? { backends: [filters.backend] } : {},
      });
      model.load(data);
      for (const e of early.splice(0)) model.apply(e);
      loaded = true;
      bump({ api, model, backends: data.backends, error: null });
      await fillMissing(api, model);
      bump();
      const analytics = { ...(filters.backend ? { backends: [filters.backend] } : {}), ...(filters.branch ? { branches: [filters.branch] } : {}) };
      const redSince = await api.query<RedSinceData>(RED_SINCE_QUERY, { filter: analytics }).catch(() => null);
      if (redSince) model.loadRedSince(redSince);
      const pools = await api.query<{ runnerPools: Pool[] }>(POOLS_QUERY, { filter: poolFilter });
      for (const pool of pools.runnerPools) model.setPool(pool);
      bump();
      const pressure = await api.query<{ runnerPools: { key: string; window: { buckets: { queued: number }[] } }[] | null }>(POOL_PRESSURE_QUERY, { filter: poolFilter }).catch(() => null);
      bump({ pressure: new Map((pressure?.runnerPools ?? []).map((p) => [p.key, p.window.buckets.map((b) => b.queued)])) });
    };
    // Subscribed before the first query, so nothing between the two is missed.
    const stops = [
      api.resume<{ pipelineUpdated: PipelineEvent }>({
        query: PIPELINE_EVENTS,
        variables: (after) => ({ filter: pipelineFilter, after }),
        cursorOf: (d) => d.pipelineUpdated.cursor,
        next: (d) => {
          if (!loaded) return void early.push(d.pipelineUpdated);
          model.apply(d.pipelineUpdated);
          bump();
        },
        lost: () => {
          if (loaded) load().catch(() => undefined);
        },
        refused,
      }),
      api.resume<{ runnerPoolUpdated: { pool: Pool } }>({
        query: POOL_EVENTS,
        variables: () => ({ filter: poolFilter }),
        cursorOf: () => null,
        next: (d) => {
          model.setPool(d.runnerPoolUpdated.pool);
          if (loaded) bump();
        },
        refused,
      }),
    ];
    load().catch((error: Error) => {
      if (error instanceof CredentialRefused) refused(error.message);
      else bump({ error: error.message });
    });
    return () => {
      stopped = true;
      for (const stop of stops) stop();
      api.close();
    };
    // Keyed by the filters' value, not their identity.
  }, [active, key, filtersQuery(filters)]);
  return state;
}
