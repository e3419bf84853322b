/** One attempt of a pipeline laid out in time: stage by stage, each job on a runner slot, with its outcome. */
import type { Random } from '../seeded-random.ts';
import { flake, type PlanJob } from './flaky.ts';
import { incidentHit, offerOrder, type Incident } from './incident.ts';
import type { PoolClock } from './pool-clock.ts';
import { MINUTE } from './time.ts';
import { duration } from './trends.ts';
import type { PastJob, PastJobTemplate, PastOutcome, PastPool, PastProject } from './types.ts';

export interface Layout {
  readonly random: Random;
  readonly pools: Map<string, PastPool>;
  readonly clock: PoolClock;
  readonly incident: Incident;
  readonly timeoutMs: number;
  readonly from: number;
  readonly nowMs: number;
}

/**
 * Lays out one attempt: stage by stage, each job on the runner slot that
 * frees first (or the pipeline's own slot for single-node projects). A
 * failed stage skips the later ones.
 */
export function layoutAttempt(l: Layout, project: PastProject, plan: readonly PlanJob[], attempt: number, createdAt: number, allowFlake: boolean): PastJob[] {
  const jobs: PastJob[] = [];
  const stages = [...new Set(plan.map((p) => p.template.stage))].sort((a, b) => a - b);
  let ready = createdAt + l.random.int(2, 15) * 1000;
  let broken = false;
  let node: { runner: string; slot: number } | null = null;
  // Each job's length is drawn once, so the slot it is placed in fits it.
  const lengths = new Map(plan.map((p) => [p.template.name, duration(l.random, l.from, project, p.template, createdAt)]));
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
        const free = l.clock.earliest(offerOrder(l.incident, pool.runners, ready), ready, need, avoid);
        if (!free) throw new Error(`pool ${template.pool} has no runners`);
        runner = free.runner;
        slot = free.slot;
        start = free.at + dispatch;
        if (project.singleNode) node = { runner, slot };
      }
      let outcome: PastOutcome = code;
      let length = lengthOf(template);
      const hit = incidentHit(l.random, l.clock, l.incident, l.timeoutMs, { runner, slot, start, length });
      if (hit) {
        outcome = hit.outcome;
        length = hit.length;
      } else if (outcome === 'success' && allowFlake) {
        const flaked = flake(l.random, template, length);
        if (flaked !== null) {
          outcome = 'failure';
          length = flaked;
        }
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
