/** Failures the code did not cause (flaky tests, the incident), and the re-run on the same commit that follows them. */
import type { Random } from '../seeded-random.ts';
import { MINUTE } from './time.ts';
import type { PastJob, PastJobTemplate } from './types.ts';

/** What the code does to a job (before flakes and infrastructure). */
export interface PlanJob {
  readonly template: PastJobTemplate;
  readonly code: 'success' | 'failure';
}

/** A flaky run of a job the code lets pass: its shortened length when it fails, else null. */
export function flake(random: Random, template: PastJobTemplate, length: number): number | null {
  if (!random.chance(template.flakeRate ?? 0)) return null;
  return Math.round(length * (0.6 + random.next() * 0.4));
}

/**
 * How often a failure the code did not cause gets a re-run. A lost runner's
 * failures less often: while the incident lasts, people wait for the fix and
 * push again rather than re-run. That keeps the incident visible where a
 * re-run hides the failed attempt (the GitLab adapter reads a pipeline's
 * latest attempts only).
 */
const RERUN_CHANCE = { infra: 0.3, other: 0.85 } as const;

/**
 * The re-run of a first attempt whose failure the code did not cause (most
 * such failures get one): when it is requested and the jobs it runs again
 * (the failed ones and those they skipped). Null: no re-run, or too late in
 * the window (`to`) to finish.
 */
export function planRerun(random: Random, plan: readonly PlanJob[], first: readonly PastJob[], to: number): { at: number; again: PlanJob[] } | null {
  const culprit = first.find((j) => j.outcome !== 'success' && j.outcome !== 'skipped');
  const planned = culprit ? plan.find((p) => p.template.name === culprit.name) : undefined;
  if (!culprit || !planned || planned.code !== 'success' || !random.chance(RERUN_CHANCE[culprit.outcome === 'infra' ? 'infra' : 'other'])) return null;
  const at = Math.max(...first.map((j) => j.finishedAt)) + random.int(2, 25) * MINUTE;
  const again = plan.filter((p) => {
    const j = first.find((x) => x.name === p.template.name);
    return j !== undefined && j.outcome !== 'success';
  });
  return at < to - 30 * MINUTE ? { at, again } : null;
}
