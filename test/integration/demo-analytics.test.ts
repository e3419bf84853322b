import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Issue 13's promise for a new user: `npm start` with no config shows non-trivial
 * analytics within seconds, because the simulators have a past (sim-kit/past-scenario.ts)
 * and the backfill imports it. Checked by content (every provider, failures by job and
 * runner, flaky jobs, red periods, a starved pool, the incident's runner flagged as a
 * concentrated failure cluster in GitLab and Jenkins); the seconds are printed, not asserted.
 * The demo's seed changes every run, so only what every seed shows is required here (the
 * past is built so that every seed shows the cluster: test/unit/past-scenario.test.ts and
 * the simulators' past tests check it on fixed seeds).
 */
const QUERY = `{
  byProvider: pipelineStats(window: { lastDays: 7 }, groupBy: [PROVIDER]) { groups { key { provider } count failedCount duration { p50 p95 } } }
  flakyJobs(window: { lastDays: 7 }, top: 5) { jobs { project jobName flakeRate timeCostMs } }
  failureCauses(window: { lastDays: 7 }) { infrastructureShare topJobs { jobName failedCount } runners { backend name failedCount infrastructureCount concentrated } }
  timeToGreen(window: { lastDays: 7 }) { series { project branch periods { durationMs } } }
  jobStats(window: { lastDays: 7 }, groupBy: [RUNNER_LABEL]) { groups { key { runnerLabel } count queueTime { p95 } } }
  backends { name provider sync { state } }
}`;

/** One backend's runner clusters, as a user narrowing failureCauses to it sees them. */
const BACKEND_CLUSTERS = `query ($backend: String!) {
  failureCauses(window: { lastDays: 7 }, filter: { backends: [$backend] }) { infrastructureShare runners { backend name infrastructureCount concentrated } }
}`;

interface Cluster { backend: string; name: string; infrastructureCount: number; concentrated: boolean }

interface Answer {
  byProvider: { groups: { key: { provider: string }; count: number; failedCount: number }[] } | null;
  flakyJobs: { jobs: unknown[] } | null;
  failureCauses: { topJobs: { failedCount: number }[]; runners: (Cluster & { failedCount: number })[] } | null;
  timeToGreen: { series: { periods: unknown[] }[] } | null;
  jobStats: { groups: { key: { runnerLabel: string | null }; count: number; queueTime: { p95: number | null } }[] } | null;
  backends: { name: string; provider: string; sync: { state: string } | null }[];
}

/** Non-trivial: all four providers counted, and each kind of figure the past was built to show. */
function meaningful(a: Answer | undefined): boolean {
  if (!a?.byProvider || !a.flakyJobs || !a.failureCauses || !a.timeToGreen || !a.jobStats) return false;
  const providers = new Set(a.byProvider.groups.filter((g) => g.count > 0).map((g) => g.key.provider));
  return providers.size === 4
    && a.byProvider.groups.some((g) => g.failedCount > 0)
    && a.flakyJobs.jobs.length > 0
    && a.failureCauses.topJobs.some((j) => j.failedCount > 0)
    && a.failureCauses.runners.some((r) => r.failedCount > 0)
    && a.timeToGreen.series.some((s) => s.periods.length > 0);
}

/** Every backend's backfill has imported its window: the barrier before requiring what the whole past shows. */
function backfilled(a: Answer | undefined): boolean {
  return !!a && a.backends.length === 4 && a.backends.every((b) => b.sync?.state === 'DONE');
}

describe('demo mode analytics', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('should answer non-trivial analytics from the simulators\' past soon after npm start', async () => {
    const started = Date.now();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', SWITCHYARD_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /DEMO MODE.*?Open (http:\/\/localhost:\d+\/graphql)/.exec(output);
        if (match) resolve(match[1]!);
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });

    let answer: Answer | undefined;
    let errors: unknown;
    let meaningfulAfter: number | null = null;
    // Polled until the figures are there (the test's own timeout bounds it): a condition, not a sleep.
    while (!meaningful(answer) || !backfilled(answer)) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
      const body = (await res.json()) as { data?: Answer; errors?: unknown };
      answer = body.data;
      errors = body.errors;
      if (meaningfulAfter === null && meaningful(answer)) meaningfulAfter = (Date.now() - started) / 1000;
      if (!meaningful(answer) || !backfilled(answer)) await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (Date.now() - started) / 1000;
    console.info(`demo mode: non-trivial analytics ${meaningfulAfter!.toFixed(1)} s after process start, the whole past imported after ${seconds.toFixed(1)} s`);
    expect(errors).toBeUndefined();
    // The starved pool: its label's queue p95 stands far above the best-served label's.
    const waits = answer!.jobStats!.groups.filter((g) => g.count >= 20).map((g) => g.queueTime.p95 ?? 0).sort((x, y) => x - y);
    expect(waits.at(-1)!).toBeGreaterThan(5 * waits[0]!);

    // The incident: in GitLab, Jenkins and Buildkite a runner/agent stands out with lost jobs (ERROR),
    // across all backends and within its own (GitHub reports a lost runner as plain failure).
    const flagged = (clusters: readonly Cluster[], backend: string) => clusters.filter((c) => c.backend === backend && c.concentrated);
    for (const provider of ['GITLAB', 'JENKINS', 'BUILDKITE']) {
      const backend = answer!.backends.find((b) => b.provider === provider)!.name;
      expect(flagged(answer!.failureCauses!.runners, backend), `${provider} among all backends`).toHaveLength(1);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: BACKEND_CLUSTERS, variables: { backend } }) });
      const own = (await res.json()) as { data?: { failureCauses: { infrastructureShare: number; runners: Cluster[] } }; errors?: unknown };
      expect(own.errors).toBeUndefined();
      const [cluster] = flagged(own.data!.failureCauses.runners, backend);
      expect(cluster, `${provider} alone`).toBeDefined();
      console.info(`demo mode: ${provider} incident runner ${cluster!.name}: ${cluster!.infrastructureCount} infrastructure failures; overall share ${own.data!.failureCauses.infrastructureShare.toFixed(4)}`);
    }

    const exit = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 240_000);
});
