import { asError } from '../../src/adapter-kit/per-distinct-key.ts';
import type { RunnerModel, RunnerScope } from '../../src/model.ts';
import type { GithubClient } from './client.ts';
import { asRecord } from './fields.ts';
import { parseProjectId } from './native-ids.ts';
import { toRunner } from './normalize.ts';
import type { RunnerPayload } from './upstream-types.ts';

/** One self-hosted runner list to read: an org or a repository. */
export interface RunnerSource {
  readonly scope: Extract<RunnerScope, 'ORGANIZATION' | 'REPOSITORY'>;
  /** Org login or `owner/repo`. */
  readonly name: string;
}

export function runnerSources(scopes: { organizations: readonly string[]; repositories: readonly string[] }): RunnerSource[] {
  return [
    ...scopes.organizations.map((name): RunnerSource => ({ scope: 'ORGANIZATION', name })),
    ...scopes.repositories.map((name): RunnerSource => ({ scope: 'REPOSITORY', name })),
  ];
}

export interface RunnerListing {
  readonly source: RunnerSource;
  readonly runners: RunnerModel[];
  /** Every page answered 304: nothing changed since the last read. */
  readonly notModified: boolean;
}

function pickRunners(page: unknown): RunnerPayload[] {
  const list = asRecord(page)?.runners;
  return Array.isArray(list) ? (list as RunnerPayload[]) : [];
}

/** Lists one source (all pages, conditional). Throws UpstreamError. */
export async function listRunnerSource(client: GithubClient, backend: string, source: RunnerSource, observedAtMs: number, signal?: AbortSignal): Promise<RunnerListing> {
  let res: { items: RunnerPayload[]; notModified: boolean };
  if (source.scope === 'ORGANIZATION') {
    res = await client.getAllPages('GET /orgs/{org}/actions/runners', { org: source.name }, pickRunners, undefined, signal);
  } else {
    const ref = parseProjectId(source.name);
    if (!ref) return { source, runners: [], notModified: true };
    res = await client.getAllPages('GET /repos/{owner}/{repo}/actions/runners', { owner: ref.owner, repo: ref.repo }, pickRunners, undefined, signal);
  }
  const runners: RunnerModel[] = [];
  for (const r of res.items) {
    try {
      runners.push(toRunner(backend, r, source.scope, observedAtMs));
    } catch {
      // An entry without an id cannot be addressed; skip it.
    }
  }
  return { source, runners, notModified: res.notModified };
}

/**
 * How long runner ids absent from a complete listing (every source answered)
 * are answered null without listing again. An id no listing knows (a removed
 * ephemeral runner, a runner of a scope not configured as a runner source)
 * thus costs at most one listing per TTL however many jobs name it, instead
 * of one per lookup. A self-hosted runner registered after that listing is
 * found at the next poll (every poll lists the sources and refreshes this) or,
 * without polls, at most this long after it was registered. 60 s, like the
 * core's not-found cache and the project cache.
 */
export const RUNNER_MISS_TTL_MS = 60_000;

/** The configured runner sources, listed together, with the last complete listing's ids remembered. */
export class RunnerDirectory {
  private lastComplete: { readonly atMs: number; readonly ids: ReadonlySet<string> } | null = null;

  constructor(
    private readonly deps: {
      readonly backend: string;
      readonly client: GithubClient;
      readonly sources: readonly RunnerSource[];
      readonly now: () => Date;
    },
  ) {}

  /** Lists every source (settled per source) and remembers a complete listing. */
  async listAll(signal?: AbortSignal): Promise<PromiseSettledResult<RunnerListing>[]> {
    const observedAtMs = this.deps.now().getTime();
    const settled = await Promise.allSettled(this.deps.sources.map((s) => listRunnerSource(this.deps.client, this.deps.backend, s, observedAtMs, signal)));
    if (settled.every((l) => l.status === 'fulfilled')) {
      const ids = new Set(settled.flatMap((l) => (l.status === 'fulfilled' ? l.value.runners.map((r) => r.nativeId) : [])));
      this.lastComplete = { atMs: observedAtMs, ids };
    }
    return settled;
  }

  /**
   * Runners by runner id: null where every source answered without it, the
   * error of a failed source otherwise (it may hold the runner). No request
   * when every id is known missing from a listing younger than the TTL.
   */
  async lookup(ids: readonly string[], signal?: AbortSignal): Promise<(RunnerModel | null | Error)[]> {
    if (ids.every((id) => this.knownMissing(id))) return ids.map(() => null);
    const byId = new Map<string, RunnerModel>();
    let failure: Error | null = null;
    for (const l of await this.listAll(signal)) {
      if (l.status === 'fulfilled') for (const r of l.value.runners) byId.set(r.nativeId, r);
      else failure ??= asError(l.reason);
    }
    return ids.map((id) => byId.get(id) ?? failure);
  }

  private knownMissing(id: string): boolean {
    const last = this.lastComplete;
    return last !== null && this.deps.now().getTime() - last.atMs < RUNNER_MISS_TTL_MS && !last.ids.has(id);
  }
}
