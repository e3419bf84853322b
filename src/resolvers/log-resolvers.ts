/**
 * Live job logs (schema/logs.graphql): Job.logAvailability, Job.log and Subscription.jobLog over
 * the gateway's LogTailService (src/logs). A log is scoped like its job: jobLog loads the job as
 * `node(id)` does, so a job the caller cannot see is NOT_FOUND. Every read is audited (who, which
 * job, from where; never the content).
 */
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { JobLog, LogChunk, Resolvers } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { badInput, ErrorCode, gatewayError, notFound } from '../errors.ts';
import { entityGlobalId, fromGlobalId } from '../ids.ts';
import { encodeLogCursor, logOffsetOf } from '../logs/log-cursor.ts';
import { logsDisabled, logUnavailable } from '../logs/log-errors.ts';
import { MAX_TAIL_LINES } from '../logs/log-tail-service.ts';
import type { LogChunkModel } from '../logs/log-types.ts';
import { stripAnsi } from '../logs/strip-ansi.ts';
import type { JobModel } from '../model.ts';
import { auditIdentity } from '../plugins/use-audit.ts';
import { scopedBackendError } from './backend-calls.ts';
import { backendOf } from './field-helpers.ts';
import { loadNodes } from './load-nodes.ts';

const NO_LOGS = { kind: 'NONE', reason: 'Job logs are not served by this gateway.' } as const;

function chunkOut(chunk: LogChunkModel, strip: boolean): LogChunk {
  return { ...chunk, sections: [...chunk.sections], text: strip ? stripAnsi(chunk.text) : chunk.text, cursor: encodeLogCursor(chunk.nextOffset) };
}

function audit(ctx: GatewayContext, job: JobModel, operation: 'query' | 'subscription', startOffset: number | null, tail: number | null): void {
  ctx.logs?.audit.append({
    kind: 'log-read', identity: auditIdentity(ctx.identity), backend: job.backend, job: { id: entityGlobalId(job), nativeId: job.nativeId },
    operation, startOffset, tail, transport: ctx.transport ?? null,
  });
}

/** An upstream failure as the caller may see it (the backend named; details only where its scope allows). */
function asGraphQLError(ctx: GatewayContext, job: JobModel, error: unknown, info: GraphQLResolveInfo): GraphQLError {
  return error instanceof GraphQLError ? error : scopedBackendError(ctx, backendOf(ctx, job.backend), error, info);
}

async function readLog(job: JobModel, args: { tail?: number | null; after?: string | null; stripAnsi: boolean }, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<JobLog> {
  const logs = ctx.logs;
  if (!logs) throw logsDisabled();
  const after = logOffsetOf(args.after);
  const tail = args.tail ?? null;
  if (tail !== null && (tail < 0 || tail > MAX_TAIL_LINES)) throw badInput(`tail must be between 0 and ${MAX_TAIL_LINES} lines, got ${tail}`);
  const availability = logs.tails.availability(job);
  audit(ctx, job, 'query', tail === null ? after ?? 0 : null, tail);
  let read;
  try {
    read = await logs.tails.read(job, { tail, after, signal: new AbortController().signal, identity: ctx.identity.id });
  } catch (error) {
    throw asGraphQLError(ctx, job, error, info);
  }
  if (!read) throw logUnavailable(job.backend, availability.kind === 'NONE' ? availability.reason : `${availability.reason} The job has not finished yet.`);
  return { ...read, sections: [...read.sections], text: args.stripAnsi ? stripAnsi(read.text) : read.text, cursor: encodeLogCursor(read.nextOffset) };
}

/**
 * The watch as the subscription's iterator: `return()` (the client left) aborts it at once, even
 * while it waits for the next chunk; an expired or revoked credential ends it with UNAUTHENTICATED.
 */
function chunkStream(ctx: GatewayContext, job: JobModel, after: number | null, strip: boolean, info: GraphQLResolveInfo): AsyncIterableIterator<LogChunk> {
  const controller = new AbortController();
  const source = ctx.logs!.tails.watch(job, after, { identity: ctx.identity.id, signal: controller.signal })[Symbol.asyncIterator]();
  let ended: GraphQLError | null = null;
  const stopWatching = ctx.credentials.watch(ctx.identity, (why) => {
    ended = gatewayError(ErrorCode.Unauthenticated, `Credentials ${why}`);
    controller.abort();
  });
  const finish = async () => {
    stopWatching();
    controller.abort();
    await source.return?.();
  };
  const iterator: AsyncIterableIterator<LogChunk> = {
    async next() {
      let result;
      try {
        result = await source.next();
      } catch (error) {
        await finish();
        throw asGraphQLError(ctx, job, error, info);
      }
      if (ended) throw ended;
      if (result.done) {
        await finish();
        return { done: true, value: undefined };
      }
      return { done: false, value: chunkOut(result.value, strip) };
    },
    async return() {
      await finish();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

async function subscribeJobLog(_: unknown, args: { id: string; after?: string | null; stripAnsi: boolean }, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<AsyncIterableIterator<LogChunk>> {
  if (!ctx.logs) throw logsDisabled();
  if (!ctx.credentials.stillValid(ctx.identity)) throw gatewayError(ErrorCode.Unauthenticated, 'Credentials expired or revoked');
  const after = logOffsetOf(args.after);
  const parts = fromGlobalId(args.id);
  const [node] = parts?.type === 'Job' ? await loadNodes(ctx, [parts], info) : [null];
  if (!node || !('type' in node) || node.type !== 'Job') {
    // A backend that failed says so; otherwise the job does not exist for this caller.
    throw ctx.partialErrors[0] ?? notFound(`no job with id ${args.id}`);
  }
  const stream = chunkStream(ctx, node, after, args.stripAnsi, info);
  audit(ctx, node, 'subscription', after ?? 0, null);
  return stream;
}

export const logResolvers: Pick<Resolvers, 'Job' | 'Subscription'> = {
  Job: {
    logAvailability: (job, _, ctx) => ctx.logs?.tails.availability(job) ?? NO_LOGS,
    log: (job, args, ctx, info) => readLog(job, args, ctx, info),
  },
  Subscription: {
    jobLog: {
      subscribe: subscribeJobLog,
      resolve: (chunk: LogChunk) => chunk,
    },
  },
};
