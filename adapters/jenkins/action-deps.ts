import { setTimeout as delay } from 'node:timers/promises';
import type { ActionCall } from '../../src/adapter-contract.ts';
import { ActionRefusal, ActionRefusedError } from '../../src/errors.ts';
import { isSuccess, refusalOf, type ActionResponse, type JenkinsActionClient } from './action-client.ts';
import { actionPaths as P, queueIdOf } from './action-paths.ts';
import { asRecord, int } from './fields.ts';
import { formatPipelineId, formatQueueId } from './native-ids.ts';
import type { JobDirectory } from './projects.ts';

/** What every action needs. */
export interface ActionDeps {
  readonly backend: string;
  readonly client: JenkinsActionClient;
  /** Scope (configured roots) and multibranch branches, from the read side's cached listing. */
  readonly jobs: JobDirectory;
  /** How long a trigger or retry follows its queue item to the build it becomes (0: one read). */
  readonly followMs: number;
  readonly followIntervalMs: number;
}

export function refuse(deps: ActionDeps, reason: ActionRefusal, message: string, details: ActionRefusedError['details'] = {}): ActionRefusedError {
  return new ActionRefusedError(deps.backend, reason, message, details);
}

/** Throws the typed refusal unless the answer is a success (2xx, or the redirect of a form POST). */
export function expectSuccess(deps: ActionDeps, method: 'GET' | 'POST', path: string, res: ActionResponse): void {
  if (!isSuccess(res.status)) throw refusalOf(deps.backend, method, path, res);
}

/** Refuses ids outside the configured roots before any request (as reads answer null for them). */
export function requireCovered(deps: ActionDeps, fullName: string): void {
  if (!deps.jobs.covers(fullName)) throw refuse(deps, ActionRefusal.NotFound, `${fullName} is outside this backend's configured jobs`);
}

/**
 * The pipeline a 201 `Location: …/queue/item/<id>/` becomes: its queue item is read until the
 * build starts (`executable.number`), for at most `followMs`; a build that has not started by
 * then is named by its queue stand-in (`<job>#queue-<id>`), which follows the build once it exists.
 */
export async function followQueueItem(deps: ActionDeps, calls: ActionCall[], fullName: string, location: string | null, signal: AbortSignal): Promise<string | null> {
  const queueId = queueIdOf(location);
  if (queueId === null) return null;
  const deadline = Date.now() + deps.followMs;
  for (;;) {
    let item: unknown;
    try {
      item = await deps.client.getJson(calls, P.queueItem(queueId), signal);
    } catch (error) {
      // The build was asked for; only its name is unknown. The stand-in still resolves it later.
      if (error instanceof ActionRefusedError) return formatQueueId(fullName, queueId);
      throw error;
    }
    const number = int(asRecord(asRecord(item)?.executable)?.number);
    if (number !== null) return formatPipelineId(fullName, number);
    if (asRecord(item)?.cancelled === true || Date.now() >= deadline) return formatQueueId(fullName, queueId);
    await delay(deps.followIntervalMs, undefined, { signal });
  }
}
