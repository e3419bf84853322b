import type { CiStatus } from '../../model.ts';

/** Red: the branch is broken. Green: it works. CANCELED and SKIPPED say nothing about the code. */
export const RED_STATUSES: ReadonlySet<CiStatus> = new Set(['FAILURE', 'UNSTABLE', 'TIMED_OUT', 'ERROR']);
export type BranchColor = 'red' | 'green';

export function colorOf(status: CiStatus): BranchColor | null {
  if (RED_STATUSES.has(status)) return 'red';
  return status === 'SUCCESS' ? 'green' : null;
}

/** A finished pipeline, as far as the branch's state cares. */
export interface FinishedPipeline {
  readonly nativeId: string;
  readonly attempt: number;
  readonly createdAt: string;
  readonly status: CiStatus;
  readonly finishedAt: string | null;
}

/** What is kept per (backend, project, branch, pipeline name): the last finished pipeline and the colour it left. */
export interface BranchState {
  readonly last: FinishedPipeline | null;
  /** Null: unknown (nothing decisive seen, no history). */
  readonly color: BranchColor | null;
  readonly redSince: string | null;
  readonly redCount: number;
  /** The last finished pipeline before `last` (`Notification.previous` of `last`'s messages). */
  readonly previous: FinishedPipeline | null;
  /** What `last` fired, so a redelivery of it (a poll after a webhook, a crash before the enqueue) fires the same again. */
  readonly fired: BranchFiring;
  /** still-failing: per rule, when it last fired on this branch (ISO). */
  readonly stillFailingSent: Readonly<Record<string, string>>;
}

export interface BranchFiring {
  readonly transition: 'failed' | 'fixed' | 'still-failing' | null;
  /** For still-failing: the rules whose rate limit let it through. */
  readonly stillFailingRules: readonly string[];
  /** For fixed and still-failing: the red period. */
  readonly red: { readonly since: string; readonly pipelines: number } | null;
}

export const EMPTY_BRANCH: BranchState = {
  last: null, color: null, redSince: null, redCount: 0, previous: null,
  fired: { transition: null, stillFailingRules: [], red: null }, stillFailingSent: {},
};

export type BranchStep =
  /** Older than the pipeline recorded: finished late, says nothing about the branch now. */
  | { readonly kind: 'stale' }
  /** The pipeline recorded already: the same firing again (the outbox keeps one). */
  | { readonly kind: 'repeat'; readonly fired: BranchFiring; readonly previous: FinishedPipeline | null }
  | { readonly kind: 'advance'; readonly fired: BranchFiring; readonly previous: FinishedPipeline | null; readonly next: BranchState };

/** Orders two pipelines of a branch: creation time, then native id (numerically), then attempt (a re-run finishes after the first). */
export function comparePipelines(a: FinishedPipeline, b: FinishedPipeline): number {
  if (a.nativeId === b.nativeId) return a.attempt - b.attempt;
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (byTime !== 0 && Number.isFinite(byTime)) return byTime;
  // Same second: the id, digits compared as numbers (a Jenkins `job/9` before `job/10`).
  return a.nativeId.localeCompare(b.nativeId, 'en', { numeric: true });
}

/**
 * One finished pipeline against the branch's state: the transition it makes (transitions, not
 * states), and the state after it. `stillFailingEvery`: the rules asking for still-failing, with
 * their rate limit in ms. Pure: the same inputs give the same answer on every instance.
 */
export function stepBranch(state: BranchState, pipeline: FinishedPipeline, stillFailingEvery: ReadonlyMap<string, number>, nowIso: string): BranchStep {
  if (state.last) {
    const order = comparePipelines(pipeline, state.last);
    if (order < 0) return { kind: 'stale' };
    if (order === 0) return { kind: 'repeat', fired: state.fired, previous: state.previous };
  }
  const color = colorOf(pipeline.status);
  const since = pipeline.finishedAt ?? nowIso;
  let fired: BranchFiring = { transition: null, stillFailingRules: [], red: null };
  let next: BranchState = { ...state, last: pipeline, previous: state.last };
  if (color === 'red' && state.color === 'red') {
    const redSince = state.redSince ?? since;
    const pipelines = state.redCount + 1;
    const now = Date.parse(nowIso);
    const rules = [...stillFailingEvery].filter(([rule, everyMs]) => {
      const sent = state.stillFailingSent[rule];
      return sent === undefined || now - Date.parse(sent) >= everyMs;
    }).map(([rule]) => rule);
    const sent = { ...state.stillFailingSent };
    for (const rule of rules) sent[rule] = nowIso;
    fired = { transition: rules.length > 0 ? 'still-failing' : null, stillFailingRules: rules, red: { since: redSince, pipelines } };
    next = { ...next, color, redSince, redCount: pipelines, stillFailingSent: sent };
  } else if (color === 'red') {
    // Green or unknown before: broken now (an unknown past counts as green, so the first red is told).
    fired = { transition: 'failed', stillFailingRules: [], red: { since, pipelines: 1 } };
    next = { ...next, color, redSince: since, redCount: 1, stillFailingSent: {} };
  } else if (color === 'green') {
    // Fixed only from a red we know of: a first green after an unknown past is not news.
    if (state.color === 'red') fired = { transition: 'fixed', stillFailingRules: [], red: { since: state.redSince ?? since, pipelines: state.redCount } };
    next = { ...next, color, redSince: null, redCount: 0, stillFailingSent: {} };
  }
  next = { ...next, fired };
  return { kind: 'advance', fired, previous: state.last, next };
}
