import type { GraphQLResolveInfo } from 'graphql';
import type { ActionInputEntry, Resolvers } from '../__generated__/resolvers-types.ts';
import type { ActionInputValue } from '../adapter-contract.ts';
import type { GatewayContext } from '../context.ts';
import type { PipelineModel } from '../model.ts';
import { reportBackendFailure } from '../resolvers/backend-calls.ts';
import { ActionInputValueScalar } from './action-input-value.ts';
import { runAction, type ActionArgs, type ActionPayloadModel } from './run-action.ts';

interface CommonInput {
  readonly idempotencyKey?: string | null;
  readonly dryRun?: boolean | null;
  readonly clientMutationId?: string | null;
}

function common(input: CommonInput): Pick<ActionArgs, 'idempotencyKey' | 'dryRun' | 'clientMutationId'> {
  return { idempotencyKey: input.idempotencyKey ?? null, dryRun: input.dryRun === true, clientMutationId: input.clientMutationId ?? null };
}

/** Entries to a record; a name given twice keeps its last value (as a JSON object would). */
function inputsOf(entries: readonly ActionInputEntry[] | null | undefined): Record<string, ActionInputValue> {
  const out: Record<string, ActionInputValue> = Object.create(null) as Record<string, ActionInputValue>;
  for (const e of entries ?? []) out[e.name] = e.value as ActionInputValue;
  return { ...out };
}

const approval = (kind: 'approve' | 'reject') => (_: unknown, { input }: { input: { id: string; comment?: string | null; inputs?: readonly ActionInputEntry[] | null } & CommonInput }, ctx: GatewayContext) =>
  runAction(ctx, {
    kind, id: input.id, ...common(input), options: { comment: input.comment ?? null }, inputs: inputsOf(input.inputs),
    build: (t) => ({ kind, target: { type: t.entity.type === 'Job' ? 'Job' : 'Pipeline', nativeId: t.entity.nativeId }, comment: input.comment ?? null, inputs: inputsOf(input.inputs) }),
  });

/** The action mutations (schema/actions.graphql), `ActionInputValue`, and `Pipeline.inputs`. */
export const actionResolvers = {
  ActionInputValue: ActionInputValueScalar,
  Mutation: {
    cancelPipeline: (_, { input }, ctx) => runAction(ctx, {
      kind: 'cancelPipeline', id: input.id, ...common(input), options: { force: input.force === true }, inputs: {},
      build: (t) => ({ kind: 'cancelPipeline', pipelineNativeId: t.entity.nativeId, force: input.force === true }),
    }),
    cancelJob: (_, { input }, ctx) => runAction(ctx, {
      kind: 'cancelJob', id: input.id, ...common(input), options: { force: input.force === true }, inputs: {},
      build: (t) => ({ kind: 'cancelJob', jobNativeId: t.entity.nativeId, force: input.force === true }),
    }),
    retryPipeline: (_, { input }, ctx) => runAction(ctx, {
      kind: 'retryPipeline', id: input.id, ...common(input), options: { failedOnly: input.failedOnly === true }, inputs: {},
      build: (t) => ({ kind: 'retryPipeline', pipelineNativeId: t.entity.nativeId, failedOnly: input.failedOnly === true }),
    }),
    retryJob: (_, { input }, ctx) => runAction(ctx, {
      kind: 'retryJob', id: input.id, ...common(input), options: {}, inputs: {},
      build: (t) => ({ kind: 'retryJob', jobNativeId: t.entity.nativeId }),
    }),
    triggerPipeline: (_, { input }, ctx) => runAction(ctx, {
      kind: 'triggerPipeline', id: input.project, ...common(input), options: { ref: input.ref, workflow: input.workflow ?? null }, inputs: inputsOf(input.inputs),
      build: (t) => ({ kind: 'triggerPipeline', projectNativeId: t.entity.nativeId, ref: input.ref, workflow: input.workflow ?? null, inputs: inputsOf(input.inputs) }),
    }),
    approve: approval('approve'),
    reject: approval('reject'),
  },
  Pipeline: {
    inputs: async (p: PipelineModel, _: unknown, ctx: GatewayContext, info: GraphQLResolveInfo) => {
      const backend = ctx.registry.get(p.backend);
      if (!backend?.adapter.batch.pipelineInputs) return null;
      try {
        return await ctx.loaders(backend).pipelineInputs.load(p.nativeId);
      } catch (error) {
        reportBackendFailure(ctx, backend, error, info);
        return null;
      }
    },
  },
} satisfies Resolvers as Resolvers;

export type { ActionPayloadModel };
