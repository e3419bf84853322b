import {
  getNamedType, getOperationAST, isObjectType, Kind,
  type DocumentNode, type ExecutionResult, type FieldNode, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../context.ts';

/** The alias under which the event's cursor is selected for its `id:` line; removed before the result is sent. */
const CURSOR_ALIAS = 'switchyardSseEventId';

/** What an SSE subscription needs: its root field rewritten (cursor selected, `after` from Last-Event-ID). */
interface Rewrite {
  readonly document: DocumentNode;
  readonly responseKey: string;
}

/**
 * The root field of a subscription whose events carry a `cursor` (jobUpdated,
 * pipelineUpdated, runnerUpdated, jobLog), with the cursor selected under
 * CURSOR_ALIAS and, when the client resumes, `after: <Last-Event-ID>`. Null for
 * other operations (runnerPoolUpdated: state, not a log) and for a root field
 * selected through a fragment (left as it is, without ids).
 */
function rewrite(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, lastEventId: string | null): Rewrite | null {
  const found = cursorRoot(schema, document, operationName);
  if (!found) return null;
  const { operation, root, field } = found;
  const resumes = lastEventId !== null && field.args.some((a) => a.name === 'after');
  const args = resumes
    ? [...(root.arguments ?? []).filter((a) => a.name.value !== 'after'), { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'after' }, value: { kind: Kind.STRING, value: lastEventId } } as const]
    : root.arguments;
  const cursor: FieldNode = { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: CURSOR_ALIAS }, name: { kind: Kind.NAME, value: 'cursor' } };
  const rewritten: FieldNode = { ...root, arguments: args, selectionSet: { kind: Kind.SELECTION_SET, selections: [...(root.selectionSet?.selections ?? []), cursor] } };
  const newOperation: OperationDefinitionNode = { ...operation, selectionSet: { ...operation.selectionSet, selections: [rewritten] } };
  return {
    document: { ...document, definitions: document.definitions.map((d) => (d === operation ? newOperation : d)) },
    responseKey: root.alias?.value ?? root.name.value,
  };
}

/** The subscription's one root field, when its events carry a `cursor` (what ids need). */
function cursorRoot(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined) {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return null;
  const root = operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
  if (!root || operation.selectionSet.selections.length !== 1) return null;
  const field = schema.getSubscriptionType()?.getFields()[root.name.value];
  const type = field && getNamedType(field.type);
  if (!field || !isObjectType(type) || !type.getFields()['cursor']) return null;
  return { operation, root, field };
}

/**
 * For a multiplexed SSE subscription (sse-multiplex.ts), which writes the ids
 * itself from each event's cursor: whether its events carry ids, and whether
 * `Last-Event-ID` makes it a resume (which runs on its own, rewritten here).
 */
export function sseEventIdsOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, lastEventId: string | null): { readonly ids: boolean; readonly resumes: boolean } {
  const found = cursorRoot(schema, document, operationName);
  return { ids: found !== null, resumes: found !== null && lastEventId !== null && found.field.args.some((a) => a.name === 'after') };
}

/** An SSE `id:` must be one line (and a NUL makes browsers ignore it). */
export const usableId = (value: unknown): value is string => typeof value === 'string' && !/[\r\n\0]/.test(value);

/**
 * The cursor of the event, moved out of the data into the result's serializer:
 * yoga's SSE writer prints `data: <stringify(result)>\n\n`, so the serializer
 * appends `\nid: <cursor>` and the event carries an `id:` line (JSON never holds
 * a raw newline). The client's own selection is sent unchanged.
 */
function withEventId(result: ExecutionResult, responseKey: string): ExecutionResult {
  const payload = result.data?.[responseKey] as Record<string, unknown> | null | undefined;
  if (!payload || !(CURSOR_ALIAS in payload)) return result;
  const { [CURSOR_ALIAS]: id, ...selected } = payload;
  const data = { ...result.data, [responseKey]: selected };
  if (!usableId(id)) return { ...result, data };
  return { ...result, data, stringify: (r: ExecutionResult) => `${JSON.stringify(r)}\nid: ${id}` } as ExecutionResult;
}

/**
 * SSE streams of resumable subscriptions carry `id: <cursor>` on every `next`
 * event, whether or not the client selected `cursor`; a reconnect with
 * `Last-Event-ID` (what a browser EventSource sends by itself) resumes after
 * that cursor exactly as `after: <cursor>` would, and wins over an `after` in
 * the operation (it is newer). This plugin serves subscriptions that run on
 * their own (resumes, operations that cannot be shared); a multiplexed SSE
 * member (sse-multiplex.ts) gets the same `id:` lines from its frame writer,
 * and its subscribe function, wrapped here too, ignores the rewritten document.
 */
export function useSseEventIds(): Plugin {
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue as unknown as Partial<GatewayContext> & { request?: Request };
      if (context.transport !== 'sse') return;
      const lastEventId = context.request?.headers.get('last-event-id') ?? null;
      const plan = rewrite(args.schema, args.document, args.operationName, lastEventId);
      if (!plan) return;
      setSubscribeFn((subscribeArgs) => subscribeFn({ ...subscribeArgs, document: plan.document }));
      return {
        onSubscribeResult() {
          return {
            onNext({ result, setResult }) {
              setResult(withEventId(result, plan.responseKey));
            },
          };
        },
      };
    },
  };
}
