/**
 * The simulators' shared past (sim-kit/past-scenario.ts): deterministic from
 * its seed, and containing what the analytics must find: flaky jobs that pass
 * on a re-run of the same commit, an incident clustering infrastructure
 * errors on one runner (concentrated, as failureCauses counts it), red
 * periods on the default branch that turn green, a starved pool, a project
 * getting slower, business-hours cadence.
 */
import { describe, expect, it } from 'vitest';
import {
  finalJobs, generatePast, overallOutcome, type PastJob, type PastOptions, type PastTimeline,
} from '../../sim-kit/past-scenario.ts';
import { CLUSTER_MIN_FAILURES } from '../../src/history/analytics/failure-causes.ts';
import { runnerClusters } from '../helpers/failure-clusters.ts';

const NOW = Date.parse('2026-12-05T00:30:00Z');
const HOUR = 3_600_000;

function options(seed: number): PastOptions {
  return {
    seed,
    nowMs: NOW,
    days: 7,
    pools: [
      { key: 'hosted', runners: [] },
      { key: 'x64', runners: [{ name: 'x64-1' }, { name: 'x64-2' }] },
      { key: 'arm64', runners: [{ name: 'arm64-1' }] },
    ],
    projects: [
      {
        name: 'api', perDay: 22, slowdownPerDay: 0.1, nightly: true, featureBranches: ['feature/a', 'fix/b'],
        jobs: [
          { name: 'lint', stage: 0, pool: 'hosted', minutes: 1.5 },
          { name: 'test', stage: 1, pool: 'x64', minutes: 6, flakeRate: 0.08 },
          { name: 'test (arm64)', stage: 1, pool: 'arm64', minutes: 14, share: 0.7 },
          { name: 'build', stage: 2, pool: 'x64', minutes: 3 },
        ],
      },
      {
        name: 'web', perDay: 12, featureBranches: ['feature/c'],
        jobs: [
          { name: 'lint', stage: 0, pool: 'hosted', minutes: 1 },
          { name: 'test', stage: 1, pool: 'x64', minutes: 4, flakeRate: 0.05 },
          { name: 'build', stage: 2, pool: 'x64', minutes: 2 },
        ],
      },
      { name: 'infra', perDay: 5, jobs: [{ name: 'plan', stage: 0, pool: 'x64', minutes: 2 }, { name: 'arm', stage: 1, pool: 'arm64', minutes: 5 }] },
    ],
  };
}

const allJobs = (t: PastTimeline): PastJob[] => t.pipelines.flatMap((p) => p.attempts.flatMap((a) => a.jobs));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe('past scenario', () => {
  const past = generatePast(options(42));

  it('is the same for the same seed and differs for another', () => {
    expect(generatePast(options(42))).toEqual(past);
    expect(generatePast(options(43)).pipelines.map((p) => p.sha)).not.toEqual(past.pipelines.map((p) => p.sha));
  });

  it('covers the window in business hours with tens of pipelines a day, all finished before now', () => {
    expect(past.to - past.from).toBe(7 * 24 * HOUR);
    expect(past.pipelines.length).toBeGreaterThan(120);
    expect(past.pipelines.length).toBeLessThan(400);
    const pushes = past.pipelines.filter((p) => p.event !== 'schedule');
    const office = pushes.filter((p) => {
      const d = new Date(p.createdAt);
      return d.getUTCHours() >= 8 && d.getUTCHours() < 18 && d.getUTCDay() !== 0 && d.getUTCDay() !== 6;
    });
    expect(office.length / pushes.length).toBeGreaterThan(0.9);
    expect(past.pipelines.every((p) => p.createdAt >= past.from && p.createdAt < past.to)).toBe(true);
    for (const j of allJobs(past)) {
      expect(j.startedAt).toBeGreaterThanOrEqual(j.queuedAt);
      expect(j.finishedAt).toBeGreaterThanOrEqual(j.startedAt);
      expect(j.finishedAt).toBeLessThan(NOW);
    }
    expect(new Set(past.pipelines.map((p) => p.branch))).toEqual(new Set(['main', 'feature/a', 'fix/b', 'feature/c']));
  });

  it('never runs two jobs on one runner slot at once', () => {
    const byRunner = new Map<string, PastJob[]>();
    for (const j of allJobs(past)) if (j.runner) byRunner.set(j.runner, [...(byRunner.get(j.runner) ?? []), j]);
    for (const jobs of byRunner.values()) {
      jobs.sort((a, b) => a.startedAt - b.startedAt);
      for (let i = 1; i < jobs.length; i++) expect(jobs[i]!.startedAt).toBeGreaterThanOrEqual(jobs[i - 1]!.finishedAt);
    }
  });

  it('has flaky jobs: the same job on the same commit fails, then passes on a re-run', () => {
    const flaky = past.pipelines.filter((p) => {
      const [first, second] = p.attempts;
      return second && first!.jobs.some((j) => j.outcome === 'failure' && second.jobs.some((k) => k.name === j.name && k.outcome === 'success'));
    });
    expect(flaky.length).toBeGreaterThanOrEqual(1);
    for (const p of flaky) expect(p.attempts[1]!.createdAt).toBeGreaterThan(Math.max(...p.attempts[0]!.jobs.map((j) => j.finishedAt)));
  });

  it('has an incident: infrastructure errors and timeouts cluster on one runner in a few hours', () => {
    const infra = allJobs(past).filter((j) => j.outcome === 'infra' || j.outcome === 'timeout');
    expect(infra.length).toBeGreaterThanOrEqual(3);
    const { runner, from, to } = past.incident;
    expect(to - from).toBeLessThanOrEqual(6 * HOUR);
    const onIt = infra.filter((j) => j.runner === runner && j.startedAt >= from && j.startedAt < to);
    expect(onIt.length).toBe(infra.length);
    const others = allJobs(past).filter((j) => j.runner !== null && j.runner !== runner && j.startedAt >= from && j.startedAt < to);
    expect(others.every((j) => j.outcome !== 'infra' && j.outcome !== 'timeout')).toBe(true);
  });

  it('makes the incident\'s runner, and only it, a concentrated failure cluster on every seed', () => {
    const status = { infra: 'ERROR', failure: 'FAILURE', timeout: 'TIMED_OUT', success: 'SUCCESS', canceled: 'CANCELED', skipped: 'SKIPPED' } as const;
    // Also with the pool's first runner taking most of its jobs (GitLab's shared-runner-1 has `concurrent` 4).
    const lopsided = (seed: number): PastOptions => ({
      ...options(seed),
      pools: options(seed).pools.map((p) => (p.key === 'x64' ? { ...p, runners: [{ name: 'x64-1', slots: 4 }, { name: 'x64-2' }] } : p)),
    });
    // Every attempt (GitHub keeps earlier run attempts, a Jenkins restart is a new build), or
    // only each pipeline's latest (the GitLab adapter reads a retried job's latest attempt).
    const views = { all: allJobs, latest: (t: PastTimeline) => t.pipelines.flatMap(finalJobs) };
    for (const [seed, t] of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].flatMap((n) => [[`${n}`, generatePast(options(n))], [`${n} lopsided`, generatePast(lopsided(n))]] as const)) {
      for (const [view, jobsOf] of Object.entries(views)) {
        const { clusters } = runnerClusters('b', jobsOf(t).map((j) => ({ runnerName: j.runner, status: status[j.outcome] })));
        expect(clusters.filter((c) => c.concentrated).map((c) => c.name), `seed ${seed}, ${view} attempts`).toEqual([t.incident.runner]);
        expect(clusters[0]!.infrastructureCount, `seed ${seed}, ${view} attempts`).toBeGreaterThanOrEqual(CLUSTER_MIN_FAILURES);
      }
    }
  });

  it('has red periods on the default branch that a later pipeline fixes', () => {
    // Lengths (in pipelines) of each red streak on a default branch that a green pipeline ends.
    const fixed: number[] = [];
    for (const project of ['api', 'web', 'infra']) {
      const results = past.pipelines.filter((p) => p.project === project && p.defaultBranch).map((p) => overallOutcome(finalJobs(p)));
      let streak = 0;
      for (const r of results) {
        if (r === 'success' && streak > 0) fixed.push(streak);
        streak = r === 'success' ? 0 : streak + 1;
      }
    }
    expect(fixed.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...fixed)).toBeGreaterThanOrEqual(3);
    expect(past.redPeriods.length).toBeGreaterThanOrEqual(3);
  });

  it('starves one pool: its jobs wait far longer in queue than the others', () => {
    expect(past.starvedPool).toBe('arm64');
    const waits = (pool: string) => allJobs(past).filter((j) => j.pool === pool && j.outcome !== 'skipped').map((j) => j.startedAt - j.queuedAt);
    expect(median(waits('arm64'))).toBeGreaterThan(5 * median(waits('x64')));
    expect(median(waits('arm64'))).toBeGreaterThan(5 * median(waits('hosted')));
  });

  it('makes one project slower over the week', () => {
    const tests = (fromDay: number, toDay: number) => past.pipelines
      .filter((p) => p.project === 'api' && p.createdAt >= past.from + fromDay * 24 * HOUR && p.createdAt < past.from + toDay * 24 * HOUR)
      .flatMap((p) => p.attempts[0]!.jobs.filter((j) => j.name === 'test' && j.outcome === 'success'))
      .map((j) => j.finishedAt - j.startedAt);
    expect(mean(tests(5, 7))).toBeGreaterThan(1.1 * mean(tests(0, 3)));
  });
});
