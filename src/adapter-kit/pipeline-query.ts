import type { PipelineQuery } from '../adapter-contract.ts';
import type { CiStatus, PipelineModel } from '../model.ts';

/**
 * Local filtering and ordering for `listPipelines(query)`: what an upstream
 * API could not filter is filtered here, and every adapter answers newest first.
 */

/** Whether a pipeline satisfies the query's status, branch and creation-time filters. */
export function matchesPipelineQuery(p: PipelineModel, q: PipelineQuery): boolean {
  if (q.status && q.status.length > 0 && !q.status.includes(p.status)) return false;
  if (q.branch !== undefined && p.branch !== q.branch) return false;
  const created = Date.parse(p.createdAt);
  if (q.createdAfter && created < q.createdAfter.getTime()) return false;
  if (q.createdBefore && created > q.createdBefore.getTime()) return false;
  return true;
}

/** Comparator: newest first by createdAt; nativeId (descending) as a stable tie-break. */
export function newestPipelineFirst(a: PipelineModel, b: PipelineModel): number {
  const d = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return d !== 0 ? d : a.nativeId < b.nativeId ? 1 : a.nativeId > b.nativeId ? -1 : 0;
}

/**
 * For an upstream `status` filter that takes one value. `table` lists, per
 * unified status, the native values that map to it (undefined: not known
 * exactly). Returns the native value when the requested statuses are exactly
 * one, `null` when none of them can exist upstream (answer [] without a
 * call), and undefined when the adapter must list unfiltered and filter locally.
 */
export function singleUpstreamStatusFilter<V extends string>(
  statuses: readonly CiStatus[] | undefined,
  table: Readonly<Record<CiStatus, readonly V[] | undefined>>,
): V | null | undefined {
  if (!statuses || statuses.length === 0) return undefined;
  const values = new Set<V>();
  for (const s of statuses) {
    const v = table[s];
    if (v === undefined) return undefined;
    for (const x of v) values.add(x);
  }
  if (values.size === 0) return null;
  return values.size === 1 ? [...values][0] : undefined;
}

/**
 * How many pages `listPipelines` reads per project from a paged REST listing:
 * pages of min(limit, 100), ceil(limit / perPage) of them, plus up to 2 more
 * when some of the requested statuses could not be filtered upstream
 * (`upstreamStatus` undefined) and are filtered locally.
 */
export function listPagePlan(
  limit: number,
  requestedStatuses: readonly CiStatus[] | undefined,
  upstreamStatus: string | undefined,
): { readonly perPage: number; readonly maxPages: number } {
  const perPage = Math.min(limit, 100);
  const localFiltering = requestedStatuses !== undefined && requestedStatuses.length > 0 && upstreamStatus === undefined;
  return { perPage, maxPages: Math.ceil(limit / perPage) + (localFiltering ? 2 : 0) };
}
