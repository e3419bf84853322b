import { toGlobalId } from '../../ids.ts';
import type { PipelineModel } from '../../model.ts';
import type { NotifiedJob, TriggerKind } from '../notification.ts';
import type { RuleConfig } from '../notify-config.ts';
import { RED_STATUSES, type BranchFiring, type BranchStep, type FinishedPipeline } from './branch-transition.ts';
import { advanceBranch } from './branch-state-store.ts';
import { buildNotification, failingJobs, notifiedJob, notifiedPipeline, notifiedProject, type ProjectInfo } from './build-notification.ts';
import { pipelineKey } from './dedupe-key.ts';
import { failureCategory, pipelineCategory } from './failure-category.ts';
import { flakyJobNames } from './flaky-lookup.ts';
import { matchesJobName, matchesPipeline } from './rule-match.ts';
import { pipelineSummary } from './summary.ts';
import type { EngineDeps } from './engine-deps.ts';

/** Triggers decided when a pipeline finishes. */
const FINISH_TRIGGERS: ReadonlySet<TriggerKind> = new Set(['failed', 'fixed', 'still-failing', 'finished', 'canceled']);
const BRANCH_TRIGGERS: ReadonlySet<TriggerKind> = new Set(['failed', 'fixed', 'still-failing']);
/**
 * A finish first seen this long after it happened (the first poll after a start, a backend back
 * from an outage) updates the branch's state but sends nothing: old news is noise.
 */
export const OLD_NEWS_MS = 3_600_000;

export type PipelineRulesDeps = EngineDeps;

/** What one rule fires for one finish, before the messages are built. */
export interface RuleFiring {
  readonly rule: RuleConfig;
  readonly trigger: TriggerKind;
}

/**
 * Which triggers each rule fires for a finished pipeline, given the branch's step (null when no
 * rule asked for a branch trigger or the pipeline has no branch). Pure.
 */
export function firingsFor(rules: readonly RuleConfig[], pipeline: Pick<PipelineModel, 'status'>, fired: BranchFiring | null): RuleFiring[] {
  const out: RuleFiring[] = [];
  for (const rule of rules) {
    const on = new Set(rule.on);
    const transition = fired?.transition ?? null;
    if (transition && on.has(transition) && (transition !== 'still-failing' || fired!.stillFailingRules.includes(rule.name))) out.push({ rule, trigger: transition });
    if (pipeline.status === 'CANCELED' && on.has('canceled')) out.push({ rule, trigger: 'canceled' });
    if (on.has('finished')) out.push({ rule, trigger: 'finished' });
  }
  return out;
}

const stepFiring = (step: BranchStep | null): { fired: BranchFiring | null; previous: FinishedPipeline | null } =>
  !step || step.kind === 'stale' ? { fired: null, previous: null } : { fired: step.fired, previous: step.previous };

/**
 * The finish of a pipeline against the rules: the branch's transition (once, in the database),
 * then one message per rule and trigger, routed by category, to the outbox.
 */
export class PipelineRules {
  constructor(private readonly deps: PipelineRulesDeps) {}

  async finished(pipeline: PipelineModel, detectedAt: string): Promise<number> {
    const { config, history, state, enqueuer, now } = this.deps;
    const candidates = config.rules.filter((r) => r.on.some((t) => FINISH_TRIGGERS.has(t)));
    if (candidates.length === 0) return 0;
    const project = await this.deps.project(pipeline.backend, pipeline.projectNativeId);
    const subject = { backend: pipeline.backend, project, branch: pipeline.branch, pipelineName: pipeline.name };
    const rules = candidates.filter((r) => matchesPipeline(r, subject));
    if (rules.length === 0) return 0;

    let step: BranchStep | null = null;
    const branchRules = rules.filter((r) => r.on.some((t) => BRANCH_TRIGGERS.has(t)));
    if (branchRules.length > 0 && pipeline.branch !== null) {
      const stillFailingEvery = new Map(branchRules.filter((r) => r.on.includes('still-failing')).map((r) => [r.name, r.stillFailingEveryMinutes * 60_000] as const));
      const finished = { nativeId: pipeline.nativeId, attempt: pipeline.attempt, createdAt: pipeline.createdAt, status: pipeline.status, finishedAt: pipeline.finishedAt };
      step = await history.read((store) =>
        advanceBranch(store, { backend: pipeline.backend, projectNativeId: pipeline.projectNativeId, branch: pipeline.branch!, pipelineName: pipeline.name }, finished, stillFailingEvery, detectedAt));
    }
    const finishedMs = pipeline.finishedAt ? Date.parse(pipeline.finishedAt) : NaN;
    if (now().getTime() - finishedMs > OLD_NEWS_MS) return 0;
    const { fired, previous } = stepFiring(step);
    const firings = firingsFor(rules, pipeline, fired);
    if (firings.length === 0) return 0;

    const failing = failingJobs(state.knownPipelineJobs(pipeline.backend, pipeline.nativeId));
    const wantsFlaky = firings.some((f) => f.rule.flaky !== 'notify') && failing.length > 0;
    const flaky = wantsFlaky
      ? await history.read((store) => flakyJobNames(store, pipeline.backend, pipeline.projectNativeId, failing.map((j) => j.name), pipeline.commitSha, now()))
      : new Set<string>();

    let inserted = 0;
    for (const { rule, trigger } of firings) {
      const jobs = failing.filter((j) => matchesJobName(rule, j.name)).map((j) => notifiedJob(j, rule.flaky !== 'notify' && flaky.has(j.name)));
      const isFailure = trigger === 'failed' || trigger === 'still-failing';
      // A job filter picks which failures count: none of them failing, nothing to tell.
      if (isFailure && rule.match.jobs.length > 0 && jobs.length === 0) continue;
      if (isFailure && rule.flaky === 'suppress' && jobs.length > 0 && jobs.every((j) => j.flaky)) continue;
      const red = RED_STATUSES.has(pipeline.status);
      const category = red ? pipelineCategory(failureCategory(pipeline.status, pipeline.native), jobs.map((j) => j.category)) : 'none';
      const sinks = rule.route[category] ?? rule.sinks;
      if (sinks.length === 0) continue;
      inserted += await enqueuer.enqueue(this.message(rule, trigger, pipeline, project, jobs, category, fired, previous, detectedAt), sinks);
    }
    return inserted;
  }

  private message(
    rule: RuleConfig, trigger: TriggerKind, pipeline: PipelineModel, project: ProjectInfo | null, jobs: readonly NotifiedJob[],
    category: ReturnType<typeof pipelineCategory>, fired: BranchFiring | null, previous: FinishedPipeline | null, detectedAt: string,
  ) {
    const notified = notifiedPipeline(pipeline, jobs);
    const branchTrigger = BRANCH_TRIGGERS.has(trigger);
    const red = branchTrigger && trigger !== 'failed' ? fired?.red ?? null : null;
    return buildNotification(
      {
        dedupeKey: pipelineKey(rule.name, trigger, pipeline.backend, pipeline.nativeId, pipeline.attempt), trigger, rule: rule.name, category,
        occurredAt: pipeline.finishedAt ?? detectedAt, detectedAt, backend: pipeline.backend, provider: pipeline.native.provider,
        summary: pipelineSummary({
          trigger, project: project?.fullName ?? pipeline.projectNativeId, branch: pipeline.branch,
          pipelineName: pipeline.name ?? pipeline.title ?? `#${pipeline.number ?? pipeline.nativeId}`, status: pipeline.status,
          durationMs: notified.durationMs, failingJobs: jobs, red,
        }),
      },
      {
        project: notifiedProject(pipeline.backend, project), pipeline: notified, lifecycle: 'finished', red,
        previous: branchTrigger && previous
          ? { pipelineId: toGlobalId('Pipeline', pipeline.backend, previous.nativeId), status: previous.status, finishedAt: previous.finishedAt }
          : null,
      },
    );
  }
}
