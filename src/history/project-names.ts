import type { Logger } from 'pino';
import type { BackendRegistry } from '../backend-registry.ts';
import type { ProjectModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';

/** A project's full name (`group/app`) from its backend and native id (GitLab's is numeric), or null when unknown. */
export type ProjectNameLookup = (backend: string, projectNativeId: string) => string | null;

/** A project read once is not read again for this long, whatever the answer. */
const RELEARN_MS = 10 * 60_000;
const MAX_REMEMBERED = 10_000;
const READ_TIMEOUT_MS = 15_000;

/**
 * Project full names for the history, from the live state. Pollers and webhooks bring
 * pipelines and jobs but not their projects, so a project the live state lacks is read
 * once from its backend in the background (at most once per 10 minutes per project) and
 * kept in the live state (`learn`); the history asks again when it writes the batch, and
 * every later observation carries the name. Never blocks, never throws.
 */
export function liveProjectNames(
  state: LiveState, registry: BackendRegistry, learn: (project: ProjectModel) => void, log: Logger, nowMs: () => number,
): ProjectNameLookup {
  const asked = new Map<string, number>();
  const read = async (backend: string, nativeId: string): Promise<void> => {
    const adapter = registry.get(backend)?.adapter;
    if (!adapter) return;
    try {
      const [project] = await adapter.batch.projects([nativeId], AbortSignal.timeout(READ_TIMEOUT_MS));
      if (project && !(project instanceof Error)) learn(project);
    } catch (error) {
      log.debug({ backend, project: nativeId, err: error instanceof Error ? error.message : String(error) }, 'history: project name not read');
    }
  };
  return (backend, nativeId) => {
    const known = state.get('Project', backend, nativeId)?.fullName;
    if (known) return known;
    const key = `${backend}\u0000${nativeId}`;
    const now = nowMs();
    if ((asked.get(key) ?? -Infinity) > now - RELEARN_MS) return null;
    asked.delete(key);
    if (asked.size >= MAX_REMEMBERED) asked.delete(asked.keys().next().value!);
    asked.set(key, now);
    void read(backend, nativeId);
    return null;
  };
}
