import { listPagePlan, matchesPipelineQuery, newestPipelineFirst } from '../../src/adapter-kit/pipeline-query.ts';
import type { PipelineQuery } from '../../src/adapter-contract.ts';
import type { CiStatus, PipelineModel } from '../../src/model.ts';
import { seg, type BuildkiteClient, type Params } from './client.ts';
import { toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import { BUILD_FILTER_STATES } from './status-map.ts';

export interface ListDeps {
  readonly backend: string;
  readonly client: BuildkiteClient;
  readonly organization: string;
  readonly projects: ProjectDirectory;
  /** The configured slugs, when the backend is limited to some. */
  readonly pipelines: readonly string[] | undefined;
}

/**
 * The native `state[]` values that select the requested statuses, or
 * undefined when the listing cannot (UNKNOWN: list unfiltered, filter here).
 * An empty array means no build can have them.
 */
export function upstreamStates(statuses: readonly CiStatus[] | undefined): string[] | undefined {
  if (!statuses || statuses.length === 0) return undefined;
  const states = new Set<string>();
  for (const s of statuses) {
    const v = BUILD_FILTER_STATES[s];
    if (v === undefined) return undefined;
    for (const x of v) states.add(x);
  }
  // A blocked build reads `passed` + `blocked: true`: WAITING needs `passed` listed too (filtered here).
  if (statuses.includes('WAITING')) states.add('passed');
  return [...states];
}

/**
 * `listPipelines(query)`: newest first, at most `limit`. Filters upstream what
 * Buildkite can (`state[]`, `branch`, `created_from`, `created_to`; `exclude_jobs`
 * and `exclude_pipeline` keep pages small) and the rest here. One listing for
 * the organization (`GET /organizations/{org}/builds`) when every pipeline is
 * in scope; one per slug when the query or the config names slugs. The
 * history's backfill pages back with `createdBefore`: about one request per
 * `limit` builds however far back.
 */
export async function listPipelines(deps: ListDeps, query: PipelineQuery, signal?: AbortSignal): Promise<PipelineModel[]> {
  const states = upstreamStates(query.status);
  if (states !== undefined && states.length === 0) return [];
  const params: Params = {
    exclude_jobs: true,
    exclude_pipeline: true,
    ...(states ? { 'state[]': states } : {}),
    ...(query.branch !== undefined ? { branch: query.branch } : {}),
    ...(query.createdAfter ? { created_from: query.createdAfter.toISOString() } : {}),
    ...(query.createdBefore ? { created_to: query.createdBefore.toISOString() } : {}),
  };
  // `passed` holds SUCCESS and blocked (WAITING) builds alike: those are told apart here, so read spare pages.
  const exact = states !== undefined && !query.status!.some((s) => s === 'SUCCESS' || s === 'WAITING');
  const plan = listPagePlan(query.limit, query.status, exact ? 'state[]' : undefined);
  const slugs = query.projectNativeIds ?? deps.pipelines;
  const org = seg(deps.organization);
  const sources = slugs === undefined
    ? [{ path: `/organizations/${org}/builds`, slug: null }]
    : slugs.filter((s) => deps.projects.inScope(s)).map((s) => ({ path: `/organizations/${org}/pipelines/${seg(s)}/builds`, slug: s }));

  const pages = await Promise.all(sources.map((src) => readSource(deps, src, params, plan, query, signal)));
  return pages.flat().sort(newestPipelineFirst).slice(0, query.limit);
}

async function readSource(
  deps: ListDeps,
  src: { path: string; slug: string | null },
  params: Params,
  plan: { perPage: number; maxPages: number },
  query: PipelineQuery,
  signal?: AbortSignal,
): Promise<PipelineModel[]> {
  const out: PipelineModel[] = [];
  let res = await deps.client.get(src.path, { ...params, per_page: plan.perPage }, signal);
  for (let page = 1; ; page++) {
    for (const raw of Array.isArray(res.data) ? res.data : []) {
      const p = tryPipeline(deps.backend, raw, src.slug);
      if (p && deps.projects.inScope(p.projectNativeId) && matchesPipelineQuery(p, query)) out.push(p);
    }
    if (out.length >= query.limit || res.nextLink === null || page >= plan.maxPages) return out;
    res = await deps.client.get(res.nextLink, {}, signal);
  }
}

function tryPipeline(backend: string, raw: unknown, slug: string | null): PipelineModel | null {
  try {
    return toPipeline(backend, raw, { slug });
  } catch {
    return null;
  }
}
