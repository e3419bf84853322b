import type { ActionKind, ActionPermission } from '../adapter-contract.ts';
import type { CompiledScope } from '../auth/scope.ts';
import type { GatewayContext } from '../context.ts';
import type { EntityType } from '../model.ts';

/** The permission each mutation needs (`scopes[].actions`). */
export const PERMISSION_OF: Readonly<Record<ActionKind, ActionPermission>> = {
  cancelPipeline: 'cancel',
  cancelJob: 'cancel',
  retryPipeline: 'retry',
  retryJob: 'retry',
  triggerPipeline: 'trigger',
  approve: 'approve',
  reject: 'approve',
};

/** The entity types a mutation's id may name. */
export const TARGET_TYPES: Readonly<Record<ActionKind, readonly EntityType[]>> = {
  cancelPipeline: ['Pipeline'],
  cancelJob: ['Job'],
  retryPipeline: ['Pipeline'],
  retryJob: ['Job'],
  triggerPipeline: ['Project'],
  approve: ['Pipeline', 'Job'],
  reject: ['Pipeline', 'Job'],
};

/**
 * The grants that decide the caller's actions: its own, or for the anonymous caller of open
 * mode `auth.anonymousActions` (none by default, so open mode stays read-only).
 */
export function actionScope(ctx: GatewayContext): CompiledScope | null {
  if (!ctx.actions) return null;
  return ctx.identity.kind === 'anonymous' ? ctx.actions.anonymousScope : ctx.identity.scope;
}
