import { parse, getOperationAST, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuditLog } from '../audit/audit-log.ts';
import { operationHash, type AuditIdentity, type AuditTransport, type GraphqlAuditEntry } from '../audit/audit-record.ts';
import { redactVariables } from '../audit/redact.ts';
import { ANONYMOUS, type Identity } from '../context.ts';
import { ErrorCode } from '../errors.ts';

export function auditIdentity(identity: Identity): AuditIdentity {
  const { id, kind, subject } = identity;
  const fingerprint = (identity as { fingerprint?: string }).fingerprint;
  return { id, kind, ...(subject ? { subject } : {}), ...(fingerprint ? { fingerprint } : {}) };
}

type ErrorLike = Pick<GraphQLError, 'extensions'> & { readonly path?: unknown };

/** Errors before execution (syntax, validation, limits, allow-list) are denials; RATE_LIMITED is `limited`. */
function outcomeOf(errors: readonly ErrorLike[] | undefined, executed: boolean): GraphqlAuditEntry['outcome'] {
  if (!errors || errors.length === 0) return 'ok';
  if (errors.some((e) => e.extensions?.code === ErrorCode.RateLimited)) return 'limited';
  return executed ? 'error' : 'denied';
}

function operationOf(query: string | undefined, operationName: string | undefined | null) {
  if (!query) return { type: 'unknown' as const, name: operationName ?? null };
  try {
    const op = getOperationAST(parse(query, { noLocation: true }), operationName ?? undefined);
    return { type: op?.operation ?? ('unknown' as const), name: op?.name?.value ?? operationName ?? null };
  } catch {
    return { type: 'unknown' as const, name: operationName ?? null };
  }
}

export interface OperationRecord {
  readonly identity: Identity;
  readonly transport: AuditTransport;
  readonly query: string | undefined;
  readonly operationName?: string | null | undefined;
  readonly variables: unknown;
  readonly errors: readonly ErrorLike[] | undefined;
  /** Whether execution started (errors then are execution errors, not denials). */
  readonly executed: boolean;
  readonly startedAt: number;
}

/** Appends one `graphql` audit record; shared by the HTTP/SSE plugin and the WebSocket binding. */
export function createOperationAuditor(log: AuditLog) {
  return (r: OperationRecord): void => {
    const op = operationOf(r.query, r.operationName);
    const redacted = redactVariables(r.variables ?? {});
    log.append({
      kind: 'graphql',
      identity: auditIdentity(r.identity),
      operationType: op.type,
      operationName: op.name,
      operationHash: operationHash(r.query ?? ''),
      variables: redacted.value,
      ...(redacted.truncated ? { variablesTruncated: true } : {}),
      outcome: outcomeOf(r.errors, r.executed),
      errorCodes: [...new Set((r.errors ?? []).map((e) => String(e.extensions?.code ?? 'GRAPHQL_ERROR')))],
      durationMs: Date.now() - r.startedAt,
      transport: r.transport,
    });
  };
}

/**
 * One audit record per GraphQL request over HTTP and SSE, taken from the final
 * result (so limits, allow-list and rate-limit rejections are all seen).
 */
export function useAudit(log: AuditLog): Plugin {
  const record = createOperationAuditor(log);
  const pending = new WeakMap<Request, { startedAt: number; params?: boolean; query?: string; operationName?: string | null; variables?: unknown }>();
  return {
    onRequest({ request }) {
      pending.set(request, { startedAt: Date.now() });
    },
    onParams({ request, params }) {
      const p = pending.get(request);
      // Params are client input, not yet validated ({"query": 1} reaches here): keep only what has the right type.
      if (p) {
        Object.assign(p, {
          params: true,
          query: typeof params.query === 'string' ? params.query : undefined,
          operationName: typeof params.operationName === 'string' ? params.operationName : null,
          variables: params.variables,
        });
      }
    },
    onResultProcess({ request, result, serverContext }) {
      const p = pending.get(request);
      if (!p?.params) return; // GraphiQL page: no GraphQL params were read
      pending.delete(request);
      const streaming = Symbol.asyncIterator in (result as object);
      const errors = streaming ? undefined : (Array.isArray(result) ? result.flatMap((r) => r.errors ?? []) : ((result as { errors?: ErrorLike[] }).errors ?? undefined));
      const data = streaming ? true : Array.isArray(result) ? result.some((r) => r.data) : (result as { data?: unknown }).data !== undefined && (result as { data?: unknown }).data !== null;
      record({
        identity: (serverContext as { identity?: Identity }).identity ?? ANONYMOUS,
        transport: streaming || (request.headers.get('accept') ?? '').includes('text/event-stream') ? 'sse' : 'http',
        query: p.query,
        operationName: p.operationName,
        variables: p.variables,
        errors,
        // Execution errors carry a path; parse, validation and limit errors do not.
        executed: data || (errors ?? []).some((e) => e.path !== undefined),
        startedAt: p.startedAt,
      });
    },
  };
}
