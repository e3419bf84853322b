import { failureClusters, type FailureCluster } from '../../src/history/analytics/failure-causes.ts';

/** What a job contributes to failureCauses.runners: its runner and status (as recorded in the history). */
export interface ClusteredJob {
  readonly runnerName: string | null;
  readonly status: string;
}

/**
 * failureCauses.runners over `jobs` of one backend, computed in memory with the
 * resolver's own rule (failureClusters): per runner, jobs and ERROR jobs, and
 * `concentrated` against the overall share of the jobs that name a runner.
 */
export function runnerClusters(backend: string, jobs: readonly ClusteredJob[]): { overallShare: number; clusters: FailureCluster[] } {
  const byRunner = new Map<string, { jobs: number; failed: number; infrastructure: number }>();
  for (const j of jobs) {
    if (j.runnerName === null) continue;
    const g = byRunner.get(j.runnerName) ?? { jobs: 0, failed: 0, infrastructure: 0 };
    g.jobs++;
    if (['FAILURE', 'TIMED_OUT', 'ERROR'].includes(j.status)) g.failed++;
    if (j.status === 'ERROR') g.infrastructure++;
    byRunner.set(j.runnerName, g);
  }
  const all = [...byRunner.values()];
  const allJobs = all.reduce((n, g) => n + g.jobs, 0);
  const allInfrastructure = all.reduce((n, g) => n + g.infrastructure, 0);
  const rows = [...byRunner].map(([name, g]) => ({ backend, name, ...g, all_jobs: allJobs, all_infrastructure: allInfrastructure }));
  return failureClusters(rows.sort((a, b) => b.infrastructure - a.infrastructure));
}
