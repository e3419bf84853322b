/**
 * A provider-neutral past for the simulators: several days of CI activity as
 * a timeline of pipelines (created/started/finished, branch, commit, jobs with
 * runners, queue waits, outcomes and re-run attempts). Each simulator's
 * world-seed turns it into its own native entities, so the three backends show
 * the same kinds of history: business-hours cadence, a project getting slower
 * over the week, flaky jobs that pass on a re-run, an infrastructure incident
 * on one runner, red periods on the default branch that get fixed, and a
 * starved runner pool whose jobs wait long in queue.
 *
 * The parts live in sim-kit/past/: types, trends (cadence, slow-down, red
 * periods), flaky (flakes and re-runs), incident, pool-clock (runner slots,
 * the starved pool), layout (one attempt in time), outcomes (reading it).
 *
 * Deterministic: the same options (seed included) give the same timeline.
 */
import { createRandom } from './seeded-random.ts';
import { planRerun, type PlanJob } from './past/flaky.ts';
import { chooseIncident } from './past/incident.ts';
import { layoutAttempt, type Layout } from './past/layout.ts';
import { PoolClock, starvedPool } from './past/pool-clock.ts';
import { DAY, HOUR, MINUTE } from './past/time.ts';
import { arrivals, redPeriods } from './past/trends.ts';
import type { PastAttempt, PastJob, PastOptions, PastPipeline, PastProject, PastTimeline } from './past/types.ts';

export type {
  PastAttempt, PastJob, PastJobTemplate, PastOptions, PastOutcome, PastPipeline, PastPool, PastProject, PastRunner, PastTimeline,
} from './past/types.ts';
export { finalJobs, overallOutcome, pipelineFinishedAt, pipelineStartedAt } from './past/outcomes.ts';

export function generatePast(options: PastOptions): PastTimeline {
  const random = createRandom(options.seed ^ 0x2f6b_a11c);
  // End a few minutes ago so every past pipeline has finished before the live world starts.
  const to = options.nowMs - 10 * MINUTE;
  const from = to - options.days * DAY;
  const incident = chooseIncident(options, from, to, random);
  const l: Layout = {
    random,
    pools: new Map(options.pools.map((p) => [p.key, p])),
    clock: new PoolClock(options.pools),
    incident,
    timeoutMs: (options.timeoutMinutes ?? 30) * MINUTE,
    from,
    nowMs: to,
  };

  // Each project: its arrivals, and one or two red periods on the default branch.
  interface Arrival { project: PastProject; at: number; kind: 'push' | 'pull_request' | 'schedule' }
  const all: Arrival[] = [];
  const red: PastTimeline['redPeriods'][number][] = [];
  for (const project of options.projects) {
    for (const at of arrivals(random, project, from, to)) {
      const feature = (project.featureBranches?.length ?? 0) > 0 && random.chance(0.45);
      all.push({ project, at, kind: feature ? 'pull_request' : 'push' });
    }
    if (project.nightly) {
      for (let day = from - (from % DAY) + DAY; day < to; day += DAY) {
        const at = day + 2 * HOUR + random.int(0, 600) * 1000;
        if (at < to) all.push({ project, at, kind: 'schedule' });
      }
    }
    red.push(...redPeriods(random, project, options.days, from, to));
  }
  all.sort((a, b) => a.at - b.at);

  const pipelines: PastPipeline[] = [];
  for (const a of all) {
    const project = a.project;
    const defaultBranch = project.defaultBranch ?? 'main';
    const onDefault = a.kind !== 'pull_request';
    const branch = onDefault ? defaultBranch : random.pick(project.featureBranches ?? [defaultBranch]);
    const period = onDefault ? red.find((r) => r.project === project.name && a.at >= r.from && a.at < r.to) : undefined;
    const plan: PlanJob[] = project.jobs
      .filter((t) => (!t.defaultBranchOnly || onDefault) && random.chance(t.share ?? 1))
      .map((t) => ({
        template: t,
        code: period?.job === t.name || (!onDefault && random.chance(0.06)) || random.chance(0.015) ? 'failure' : 'success',
      }));
    if (plan.length === 0) continue;
    const sha = random.hex(40);
    const first = layoutAttempt(l, project, plan, 1, a.at, true);
    const attempts: PastAttempt[] = [{ attempt: 1, createdAt: a.at, jobs: first }];
    const rerun = planRerun(random, plan, first, to);
    if (rerun) attempts.push({ attempt: 2, createdAt: rerun.at, jobs: layoutAttempt(l, project, rerun.again, 2, rerun.at, false) });
    // Superseded feature-branch pipelines get canceled now and then.
    if (!onDefault && attempts.length === 1 && random.chance(0.03)) {
      const last = first[first.length - 1];
      if (last && last.outcome === 'success') (first as PastJob[])[first.length - 1] = { ...last, outcome: 'canceled' };
    }
    pipelines.push({
      project: project.name,
      branch,
      defaultBranch: onDefault,
      sha,
      event: a.kind,
      actor: random.int(0, 1000),
      message: random.int(0, 1000),
      createdAt: a.at,
      attempts,
    });
  }
  return { from, to, pipelines, incident, starvedPool: starvedPool(options), redPeriods: red };
}
