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
 * Deterministic: the same options (seed included) give the same timeline.
 */
import { createRandom, type Random } from './seeded-random.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Neutral job outcomes. `failure` is the code's fault (script failed),
 * `timeout` a job that hit its time limit, `infra` an infrastructure error
 * (runner lost / system failure), `skipped` a job an earlier failure skipped.
 */
export type PastOutcome = 'success' | 'failure' | 'timeout' | 'infra' | 'canceled' | 'skipped';

export interface PastRunner {
  /** The provider's runner/agent name. */
  readonly name: string;
  /** Jobs it runs at once (GitLab `concurrent`, Jenkins executors). Default 1. */
  readonly slots?: number;
}

export interface PastPool {
  readonly key: string;
  /** Empty: an elastic (hosted) pool, every job gets a fresh machine at once. */
  readonly runners: readonly PastRunner[];
}

export interface PastJobTemplate {
  readonly name: string;
  /** Jobs of stage k are queued when every job of stage k-1 is done. */
  readonly stage: number;
  readonly pool: string;
  /** Typical run time at the start of the window. */
  readonly minutes: number;
  /** Chance that a run fails for no reason of the code (a flaky test). */
  readonly flakeRate?: number;
  /** Only in this share of pipelines (e.g. an optional matrix leg). Default 1. */
  readonly share?: number;
  /** Only on the default branch (deploys). */
  readonly defaultBranchOnly?: boolean;
}

export interface PastProject {
  readonly name: string;
  /** Pipelines per weekday (weekends see a tenth of it). */
  readonly perDay: number;
  readonly jobs: readonly PastJobTemplate[];
  /** Fractional slow-down per day (0.06: 6 % slower every day). */
  readonly slowdownPerDay?: number;
  /** The whole pipeline holds one runner slot (a Jenkins `node` block). */
  readonly singleNode?: boolean;
  readonly defaultBranch?: string;
  /** Feature branches pipelines run on besides the default branch; none: default branch only. */
  readonly featureBranches?: readonly string[];
  /** One scheduled (nightly) pipeline per day on the default branch. */
  readonly nightly?: boolean;
}

export interface PastOptions {
  readonly seed: number;
  readonly nowMs: number;
  readonly days: number;
  readonly projects: readonly PastProject[];
  readonly pools: readonly PastPool[];
  /** Pool and runner of the infrastructure incident (default: the first runner of the first pool with two or more). */
  readonly incident?: { readonly pool: string; readonly runner: string };
  /** Time limit after which a job is stopped as timed out (default 30 min). */
  readonly timeoutMinutes?: number;
}

export interface PastJob {
  readonly name: string;
  readonly stage: number;
  readonly pool: string;
  /** Null for skipped jobs. */
  readonly runner: string | null;
  /** When the job was queued (its stage became ready). */
  readonly queuedAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly outcome: PastOutcome;
  /** 1 for the first run, 2 for the first re-run/retry, … */
  readonly attempt: number;
}

export interface PastAttempt {
  readonly attempt: number;
  /** When the attempt was requested (the pipeline's creation for attempt 1). */
  readonly createdAt: number;
  /** Attempt 1: every job; later attempts: the jobs that were run again (failed ones and those they skipped). */
  readonly jobs: readonly PastJob[];
}

export interface PastPipeline {
  readonly project: string;
  readonly branch: string;
  readonly defaultBranch: boolean;
  readonly sha: string;
  readonly event: 'push' | 'pull_request' | 'schedule';
  /** Index into the provider's actor list. */
  readonly actor: number;
  /** Index into the provider's commit messages. */
  readonly message: number;
  readonly createdAt: number;
  readonly attempts: readonly PastAttempt[];
}

export interface PastTimeline {
  readonly from: number;
  readonly to: number;
  /** Oldest first. */
  readonly pipelines: readonly PastPipeline[];
  readonly incident: { readonly pool: string; readonly runner: string; readonly from: number; readonly to: number };
  /** Pool with the fewest runner slots per job minute. */
  readonly starvedPool: string | null;
  /** Red periods planned on each project's default branch (from the breaking commit to its fix). */
  readonly redPeriods: readonly { readonly project: string; readonly job: string; readonly from: number; readonly to: number }[];
}

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

/**
 * Runner slots and the intervals they are busy. A job takes the slot where it
 * can start first (the earliest gap that fits it at or after it is ready).
 */
class PoolClock {
  private readonly busy = new Map<string, [number, number][][]>();

  constructor(pools: readonly PastPool[]) {
    for (const p of pools) for (const r of p.runners) this.busy.set(r.name, Array.from({ length: Math.max(1, r.slots ?? 1) }, () => []));
  }

  /** Where a job of `length` ms ready at `ready` can start first among `runners` (ties: first listed). */
  earliest(runners: readonly PastRunner[], ready: number, length: number, exclude: string | null): { runner: string; slot: number; at: number } | null {
    let best: { runner: string; slot: number; at: number } | null = null;
    for (const r of runners) {
      if (r.name === exclude && runners.length > 1) continue;
      (this.busy.get(r.name) ?? []).forEach((intervals, slot) => {
        const at = firstGap(intervals, ready, length);
        if (!best || at < best.at) best = { runner: r.name, slot, at };
      });
    }
    return best;
  }

  fits(runner: string, slot: number, from: number, to: number): boolean {
    const intervals = this.busy.get(runner)?.[slot] ?? [];
    return firstGap(intervals, from, to - from) === from;
  }

  hold(runner: string, slot: number, from: number, to: number): void {
    const intervals = this.busy.get(runner)?.[slot];
    if (!intervals) return;
    intervals.push([from, to]);
    intervals.sort((a, b) => a[0] - b[0]);
  }
}

function firstGap(intervals: readonly [number, number][], ready: number, length: number): number {
  let at = ready;
  for (const [from, to] of intervals) {
    if (to <= at) continue;
    if (from >= at + length) break;
    at = to;
  }
  return at;
}

interface Layout {
  readonly random: Random;
  readonly pools: Map<string, PastPool>;
  readonly clock: PoolClock;
  readonly incident: PastTimeline['incident'];
  readonly timeoutMs: number;
  readonly from: number;
  readonly nowMs: number;
}

/** The business-hours arrival times of one project's pipelines over the window. */
function arrivals(random: Random, project: PastProject, from: number, to: number): number[] {
  const out: number[] = [];
  for (let day = from - (from % DAY); day < to; day += DAY) {
    const weekday = new Date(day).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const n = weekend ? (random.chance(project.perDay / 10) ? 1 : 0) : Math.max(1, Math.round(project.perDay * (0.8 + random.next() * 0.4)));
    for (let i = 0; i < n; i++) {
      // Business hours 08:00–18:00 UTC, busiest late morning and mid afternoon.
      const hour = 8 + (random.next() + random.next() + random.next()) / 3 * 10;
      const t = day + Math.floor(hour * HOUR);
      if (t >= from && t < to) out.push(t);
    }
  }
  return out.sort((a, b) => a - b);
}

/** A duration around `minutes` with noise, scaled by the project's trend at time `at`. */
function duration(l: Layout, project: PastProject, t: PastJobTemplate, at: number): number {
  const days = (at - l.from) / DAY;
  const trend = 1 + (project.slowdownPerDay ?? 0) * days;
  const noise = 0.8 + l.random.next() * 0.45;
  return Math.max(20_000, Math.round(t.minutes * MINUTE * trend * noise));
}

interface PlanJob {
  readonly template: PastJobTemplate;
  /** What the code does to this job (before flakes and infrastructure). */
  readonly code: 'success' | 'failure';
}

/**
 * Lays out one attempt: stage by stage, each job on the runner slot that
 * frees first (or the pipeline's own slot for single-node projects). A
 * failed stage skips the later ones.
 */
function layoutAttempt(l: Layout, project: PastProject, plan: readonly PlanJob[], attempt: number, createdAt: number, allowFlake: boolean): PastJob[] {
  const jobs: PastJob[] = [];
  const stages = [...new Set(plan.map((p) => p.template.stage))].sort((a, b) => a - b);
  let ready = createdAt + l.random.int(2, 15) * 1000;
  let broken = false;
  let node: { runner: string; slot: number } | null = null;
  // Each job's length is drawn once, so the slot it is placed in fits it.
  const lengths = new Map(plan.map((p) => [p.template.name, duration(l, project, p.template, createdAt)]));
  const lengthOf = (t: PastJobTemplate): number => lengths.get(t.name) ?? MINUTE;
  for (const stage of stages) {
    let stageEnd = ready;
    let failed = false;
    for (const { template, code } of plan.filter((p) => p.template.stage === stage)) {
      if (broken) {
        jobs.push({ name: template.name, stage, pool: template.pool, runner: null, queuedAt: ready, startedAt: ready, finishedAt: ready, outcome: 'skipped', attempt });
        continue;
      }
      const pool = l.pools.get(template.pool);
      let runner: string | null = null;
      let start: number;
      let slot = 0;
      if (node) {
        runner = node.runner;
        slot = node.slot;
        start = ready + l.random.int(1, 4) * 1000;
      } else if (!pool || pool.runners.length === 0) {
        start = ready + l.random.int(5, 25) * 1000;
      } else {
        // A retry after an infrastructure error lands on another runner when there is one.
        const avoid = attempt > 1 ? l.incident.runner : null;
        const dispatch = l.random.int(3, 20) * 1000;
        const need = project.singleNode
          ? plan.reduce((n, p) => n + lengthOf(p.template) + 15_000, 0) + 60_000
          : lengthOf(template) + dispatch;
        const free = l.clock.earliest(pool.runners, ready, need, avoid);
        if (!free) throw new Error(`pool ${template.pool} has no runners`);
        runner = free.runner;
        slot = free.slot;
        start = free.at + dispatch;
        if (project.singleNode) node = { runner, slot };
      }
      let outcome: PastOutcome = code;
      let length = lengthOf(template);
      const inIncident = runner === l.incident.runner && start >= l.incident.from && start < l.incident.to;
      if (inIncident && l.random.chance(0.8)) {
        // A hung job runs into its time limit, unless that would overlap the slot's next job: then the runner drops it.
        const hang = runner !== null && l.random.chance(0.35) && l.clock.fits(runner, slot, start, start + l.timeoutMs);
        outcome = hang ? 'timeout' : 'infra';
        length = hang ? l.timeoutMs : Math.round(length * (0.2 + l.random.next() * 0.5));
      } else if (outcome === 'success' && allowFlake && l.random.chance(template.flakeRate ?? 0)) {
        outcome = 'failure';
        length = Math.round(length * (0.6 + l.random.next() * 0.4));
      } else if (outcome === 'failure') {
        length = Math.round(length * (0.4 + l.random.next() * 0.5));
      }
      const finishedAt = Math.min(start + length, l.nowMs - 1000);
      if (runner && !project.singleNode) l.clock.hold(runner, slot, start, finishedAt);
      jobs.push({ name: template.name, stage, pool: template.pool, runner, queuedAt: ready, startedAt: start, finishedAt, outcome, attempt });
      stageEnd = Math.max(stageEnd, finishedAt);
      if (outcome !== 'success') failed = true;
    }
    // Jobs of one stage run side by side; a failure skips the later stages only.
    broken = failed;
    ready = stageEnd + l.random.int(1, 8) * 1000;
  }
  const held = jobs.filter((j) => j.runner !== null);
  if (node && held.length > 0) l.clock.hold(node.runner, node.slot, Math.min(...held.map((j) => j.startedAt)), Math.max(...held.map((j) => j.finishedAt)));
  return jobs;
}

function chooseIncident(options: PastOptions, from: number, to: number, random: Random): PastTimeline['incident'] {
  const explicit = options.incident;
  const pool = explicit ? options.pools.find((p) => p.key === explicit.pool) : options.pools.find((p) => p.runners.length >= 2);
  const runner = explicit?.runner ?? pool?.runners[0]?.name;
  if (!pool || !runner) return { pool: '', runner: '', from: 0, to: 0 };
  // A weekday morning in the middle of the window, a few hours long.
  let day = from + Math.floor((to - from) / DAY / 2) * DAY;
  day -= day % DAY;
  while ([0, 6].includes(new Date(day).getUTCDay()) && day + DAY < to) day += DAY;
  const start = day + (9 + random.int(0, 2)) * HOUR;
  return { pool: pool.key, runner, from: start, to: start + random.int(3, 4) * HOUR };
}

/** The pool whose runner slots are most oversubscribed (job minutes per slot). */
function starvedPool(options: PastOptions): string | null {
  let worst: { key: string; load: number } | null = null;
  for (const pool of options.pools) {
    if (pool.runners.length === 0) continue;
    const slots = pool.runners.reduce((n, r) => n + Math.max(1, r.slots ?? 1), 0);
    const minutes = options.projects.reduce(
      (n, p) => n + p.jobs.filter((j) => j.pool === pool.key).reduce((m, j) => m + j.minutes * (j.share ?? 1) * p.perDay, 0),
      0,
    );
    const load = minutes / slots;
    if (!worst || load > worst.load) worst = { key: pool.key, load };
  }
  return worst?.key ?? null;
}

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
  const redPeriods: { project: string; job: string; from: number; to: number }[] = [];
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
    const breakable = project.jobs.filter((j) => j.stage > 0 && !j.defaultBranchOnly);
    const periods = Math.max(1, Math.round(options.days / 4));
    for (let i = 0; i < periods && breakable.length > 0; i++) {
      let start = from + ((i + 0.3 + random.next() * 0.5) / periods) * (to - from);
      start -= start % DAY;
      while ([0, 6].includes(new Date(start).getUTCDay())) start -= DAY;
      start += (9 + random.int(0, 6)) * HOUR;
      if (start > from) redPeriods.push({ project: project.name, job: random.pick(breakable).name, from: start, to: start + random.int(2, 6) * HOUR });
    }
  }
  all.sort((a, b) => a.at - b.at);

  const pipelines: PastPipeline[] = [];
  for (const a of all) {
    const project = a.project;
    const defaultBranch = project.defaultBranch ?? 'main';
    const onDefault = a.kind !== 'pull_request';
    const branch = onDefault ? defaultBranch : random.pick(project.featureBranches ?? [defaultBranch]);
    const red = onDefault ? redPeriods.find((r) => r.project === project.name && a.at >= r.from && a.at < r.to) : undefined;
    const plan: PlanJob[] = project.jobs
      .filter((t) => (!t.defaultBranchOnly || onDefault) && random.chance(t.share ?? 1))
      .map((t) => ({
        template: t,
        code: red?.job === t.name || (!onDefault && random.chance(0.06)) || random.chance(0.015) ? 'failure' : 'success',
      }));
    if (plan.length === 0) continue;
    const sha = random.hex(40);
    const first = layoutAttempt(l, project, plan, 1, a.at, true);
    const attempts: PastAttempt[] = [{ attempt: 1, createdAt: a.at, jobs: first }];
    // A failure the code did not cause is usually re-run on the same commit.
    const culprit = first.find((j) => j.outcome !== 'success' && j.outcome !== 'skipped');
    const planned = culprit ? plan.find((p) => p.template.name === culprit.name) : undefined;
    if (culprit && planned && planned.code === 'success' && random.chance(0.85)) {
      const rerunAt = Math.max(...first.map((j) => j.finishedAt)) + random.int(2, 25) * MINUTE;
      const again = plan.filter((p) => {
        const j = first.find((x) => x.name === p.template.name);
        return j !== undefined && j.outcome !== 'success';
      });
      if (rerunAt < to - 30 * MINUTE) {
        attempts.push({ attempt: 2, createdAt: rerunAt, jobs: layoutAttempt(l, project, again, 2, rerunAt, false) });
      }
    }
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
  return { from, to, pipelines, incident, starvedPool: starvedPool(options), redPeriods };
}
