import type { JobModel, RunnerModel } from '../model.ts';

/**
 * Runner-pool matching (README "Runner pools"). A pool is the set of labels jobs
 * ask for, on one backend. Labels compare case-insensitively (GitHub matches
 * `runs-on` that way, and lists `Linux`/`X64` where workflows write `linux`/`x64`).
 */
export interface PoolId {
  readonly backend: string;
  /** Lower case, trimmed, sorted, without duplicates or empties. */
  readonly labels: readonly string[];
}

export function normalizeLabels(labels: readonly string[]): string[] {
  return [...new Set(labels.map((l) => l.trim().toLowerCase()).filter((l) => l.length > 0))].sort();
}

/** `gh:linux,self-hosted`: backend names cannot contain ':' (config), labels are joined by ','. */
export function poolKey(backend: string, labels: readonly string[]): string {
  return `${backend}:${normalizeLabels(labels).join(',')}`;
}

export function poolOf(backend: string, labels: readonly string[]): PoolId {
  return { backend, labels: normalizeLabels(labels) };
}

/** The pool a job is in: exactly the labels it asks for. */
export function jobPool(job: JobModel): PoolId {
  return poolOf(job.backend, job.labels);
}

/** A runner satisfies a pool when its labels include every label of the pool (an empty pool: any runner). */
export function satisfies(runnerLabels: readonly string[], pool: PoolId): boolean {
  const own = new Set(runnerLabels.map((l) => l.trim().toLowerCase()));
  return pool.labels.every((l) => own.has(l));
}

export function runnerSatisfies(runner: RunnerModel, pool: PoolId): boolean {
  return runner.backend === pool.backend && satisfies(runner.labels, pool);
}

export function jobInPool(job: JobModel, pool: PoolId): boolean {
  if (job.backend !== pool.backend) return false;
  const labels = normalizeLabels(job.labels);
  return labels.length === pool.labels.length && labels.every((l, i) => l === pool.labels[i]);
}
