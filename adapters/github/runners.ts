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
export async function listRunnerSource(client: GithubClient, backend: string, source: RunnerSource, observedAtMs: number): Promise<RunnerListing> {
  let res: { items: RunnerPayload[]; notModified: boolean };
  if (source.scope === 'ORGANIZATION') {
    res = await client.getAllPages('GET /orgs/{org}/actions/runners', { org: source.name }, pickRunners);
  } else {
    const ref = parseProjectId(source.name);
    if (!ref) return { source, runners: [], notModified: true };
    res = await client.getAllPages('GET /repos/{owner}/{repo}/actions/runners', { owner: ref.owner, repo: ref.repo }, pickRunners);
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
