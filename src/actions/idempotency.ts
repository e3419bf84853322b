import { createHash } from 'node:crypto';
import type { ActionKind } from '../adapter-contract.ts';
import { canonicalJson } from '../audit/audit-record.ts';
import { ActionCode, fail, type ActionErrorModel } from './action-error.ts';
import type { ActionServices } from './action-services.ts';
import type { IdempotencyClaim } from './idempotency-store.ts';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
/** How often a duplicate checks whether the first request finished. */
const WAIT_STEP_MS = 50;

/** What a key's first request stored, answered again to its duplicates. */
export interface StoredOutcome {
  readonly errors: readonly ActionErrorModel[];
  readonly calls: readonly { readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'; readonly path: string; readonly status?: number }[];
  readonly pipeline: string | null;
  readonly job: string | null;
}

/** One key per identity and mutation, hashed so a key's text never reaches Redis or a log. */
export function idempotencyScope(identityId: string, kind: ActionKind, key: string): string {
  return createHash('sha256').update(canonicalJson([identityId, kind, key])).digest('hex');
}

/** The canonical hash of what makes two requests "the same input": target, options and inputs. */
export function inputFingerprint(args: { readonly id: string; readonly options: unknown; readonly inputs: unknown }): string {
  return createHash('sha256').update(canonicalJson({ id: args.id, options: args.options, inputs: args.inputs })).digest('hex');
}

/**
 * Claims the key, or waits while another request with it is under way (bounded: a little past
 * the claim's hold, after which a dead claimant's claim has expired and this one takes it).
 * Another input under the same key is a conflict at once.
 */
export async function claimIdempotencyKey(services: ActionServices, key: string, fingerprint: string): Promise<Exclude<IdempotencyClaim, { status: 'pending' }>> {
  const until = Date.now() + services.idempotencyHoldMs + 5000;
  for (;;) {
    const claim = await services.idempotency.claim(key, fingerprint, services.idempotencyHoldMs);
    if (claim.status !== 'claimed' && claim.fingerprint !== fingerprint) fail(ActionCode.IdempotencyConflict, 'idempotencyKey was already used with a different input (within 24 hours)');
    if (claim.status !== 'pending') return claim;
    if (Date.now() >= until) fail(ActionCode.Refused, 'an action with this idempotencyKey is still under way; try again later');
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}
