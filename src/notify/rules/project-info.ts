import type { BackendRegistry } from '../../backend-registry.ts';
import type { LiveState } from '../../state/live-state.ts';
import type { ProjectInfo } from './build-notification.ts';

const READ_TIMEOUT_MS = 5000;
const MAX_REMEMBERED = 5000;

/**
 * A project's full name and default branch (`$default` needs it): the live state's, else read
 * once from its backend and remembered. Null when the backend cannot say.
 */
export function projectInfoSource(state: LiveState, registry: BackendRegistry): (backend: string, nativeId: string) => Promise<ProjectInfo | null> {
  const read = new Map<string, ProjectInfo | null>();
  return async (backend, nativeId) => {
    const live = state.get('Project', backend, nativeId);
    if (live) return { nativeId, fullName: live.fullName, url: live.url, defaultBranch: live.defaultBranch };
    const key = `${backend}\u0000${nativeId}`;
    if (read.has(key)) return read.get(key) ?? null;
    let info: ProjectInfo | null = null;
    try {
      const [project] = (await registry.get(backend)?.adapter.batch.projects([nativeId], AbortSignal.timeout(READ_TIMEOUT_MS))) ?? [];
      if (project && !(project instanceof Error)) info = { nativeId, fullName: project.fullName, url: project.url, defaultBranch: project.defaultBranch };
    } catch {
      info = null; // not remembered as known: the next finish asks again
      return null;
    }
    if (read.size >= MAX_REMEMBERED) read.delete(read.keys().next().value!);
    read.set(key, info);
    return info;
  };
}
