import type { Logger } from 'pino';
import type { BackendRegistry } from '../../backend-registry.ts';
import type { ProjectModel } from '../../model.ts';
import type { LiveState } from '../../state/live-state.ts';

const READ_TIMEOUT_MS = 5000;
/** A project that could not be read is not asked for again before this (a poll every few seconds must not hammer upstream). */
const RETRY_MS = 60_000;
const MAX_REMEMBERED = 10_000;

export interface ProjectResolver {
  /** Reads the projects the live state lacks (names and default branches), learning them into it; never throws. */
  ensure(wanted: Iterable<{ readonly backend: string; readonly projectNativeId: string }>): Promise<void>;
}

/**
 * Pollers and webhooks bring pipelines, not their projects; the feed needs each project's full
 * name (its entry's name, the caller's scope) and default branch. A project the live state
 * lacks is read once from its backend, batched per backend, and kept in the live state.
 */
export function createProjectResolver(state: LiveState, registry: BackendRegistry, log: Logger, nowMs: () => number): ProjectResolver {
  const failedAt = new Map<string, number>();
  const remember = (key: string) => {
    failedAt.delete(key);
    if (failedAt.size >= MAX_REMEMBERED) failedAt.delete(failedAt.keys().next().value!);
    failedAt.set(key, nowMs());
  };
  const readBackend = async (backend: string, ids: readonly string[]): Promise<void> => {
    const adapter = registry.get(backend)?.adapter;
    if (!adapter) return;
    let found: ReadonlyArray<ProjectModel | null | Error> = [];
    try {
      found = await adapter.batch.projects(ids, AbortSignal.timeout(READ_TIMEOUT_MS));
    } catch (error) {
      log.debug({ backend, err: error instanceof Error ? error.message : String(error) }, 'cc.xml: projects not read');
    }
    ids.forEach((id, i) => {
      const project = found[i];
      if (project && !(project instanceof Error)) state.apply(project, nowMs());
      else remember(`${backend}\u0000${id}`);
    });
  };
  return {
    async ensure(wanted) {
      const missing = new Map<string, Set<string>>();
      const now = nowMs();
      for (const { backend, projectNativeId } of wanted) {
        if (state.get('Project', backend, projectNativeId)) continue;
        if ((failedAt.get(`${backend}\u0000${projectNativeId}`) ?? -Infinity) > now - RETRY_MS) continue;
        let ids = missing.get(backend);
        if (!ids) missing.set(backend, (ids = new Set()));
        ids.add(projectNativeId);
      }
      await Promise.all([...missing].map(([backend, ids]) => readBackend(backend, [...ids])));
    },
  };
}
