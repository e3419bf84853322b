import { setTimeout as delay } from 'node:timers/promises';
import type { ActionCall, ActionKind } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import { ActionRefusal, ActionRefusedError } from '../../src/errors.ts';
import type { BuildkiteActionClient } from './action-client.ts';
import type { ActionPaths } from './action-paths.ts';

/** What every action needs (built once by createBuildkiteActions from BuildkiteActionsDeps). */
export interface ActionContext {
  readonly backend: string;
  readonly client: BuildkiteActionClient;
  readonly paths: ActionPaths;
  /** Whether a pipeline slug lies inside the backend's configured set (no request). */
  readonly covers: (slug: string) => boolean;
  readonly followMs: number;
  readonly followIntervalMs: number;
  /** Buildkite's build object (with `jobs`) → the unified entities; absent: outcomes carry none. */
  readonly toEntities?: (build: unknown) => readonly EntityModel[];
}

export function refuse(ctx: Pick<ActionContext, 'backend'>, reason: ActionRefusal, message: string, details: ActionRefusedError['details'] = {}): ActionRefusedError {
  return new ActionRefusedError(ctx.backend, reason, message, details);
}

/** Refuses slugs outside the configured pipelines before any request (as reads answer null for them). */
export function requireCovered(ctx: ActionContext, slug: string): void {
  if (!ctx.covers(slug)) throw refuse(ctx, ActionRefusal.NotFound, `pipeline ${slug} is outside this backend's configured pipelines`);
}

/**
 * Follows a build after a write until `settled` says the action shows in it, for at most
 * `followMs`, re-reading it with the write token (every request an action causes carries it).
 * `answer` is what the write itself answered (Buildkite answers cancel, unblock and retry with the
 * object changed): when that already shows the change, no read is sent. Returns the last build
 * seen (null if none), so the outcome can carry it as fresh entities.
 */
export async function followBuild(
  ctx: ActionContext, kind: ActionKind, calls: ActionCall[], slug: string, number: number,
  answer: unknown, settled: (build: unknown) => boolean, signal: AbortSignal,
): Promise<unknown> {
  let build = answer;
  if (build !== null && settled(build)) return build;
  const deadline = Date.now() + ctx.followMs;
  while (Date.now() < deadline) {
    await delay(Math.min(ctx.followIntervalMs, Math.max(0, deadline - Date.now())), undefined, { signal });
    build = (await ctx.client.send(kind, calls, 'GET', ctx.paths.build(slug, number), signal)).data;
    if (settled(build)) break;
  }
  return build;
}

/** The entities of a build answer, when the read side's normalizer was given and the answer is a build. */
export function entitiesOf(ctx: ActionContext, build: unknown): { entities?: readonly EntityModel[] } {
  if (!ctx.toEntities || build === null || typeof build !== 'object') return {};
  try {
    const entities = ctx.toEntities(build);
    return entities.length > 0 ? { entities } : {};
  } catch {
    // A build the normalizer cannot read is no reason to fail an action that succeeded.
    return {};
  }
}
