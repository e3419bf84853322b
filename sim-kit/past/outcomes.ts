/** Reading a past pipeline: its jobs as they ended, its overall outcome and its span. */
import type { PastJob, PastOutcome, PastPipeline } from './types.ts';

/** The jobs as they ended: per name, the latest attempt's job. */
export function finalJobs(p: PastPipeline): PastJob[] {
  const byName = new Map<string, PastJob>();
  for (const a of p.attempts) for (const j of a.jobs) byName.set(j.name, j);
  return [...byName.values()].sort((a, b) => a.stage - b.stage);
}

/** Neutral result of a set of jobs: the worst outcome wins (canceled only if nothing failed). */
export function overallOutcome(jobs: readonly PastJob[]): PastOutcome {
  const order: PastOutcome[] = ['infra', 'timeout', 'failure', 'canceled'];
  for (const o of order) if (jobs.some((j) => j.outcome === o)) return o;
  return jobs.every((j) => j.outcome === 'skipped') ? 'skipped' : 'success';
}

export function pipelineStartedAt(p: PastPipeline): number {
  return Math.min(...(p.attempts[0]?.jobs ?? []).filter((j) => j.outcome !== 'skipped').map((j) => j.startedAt), Infinity);
}

export function pipelineFinishedAt(p: PastPipeline): number {
  return Math.max(...p.attempts.flatMap((a) => a.jobs.map((j) => j.finishedAt)));
}
