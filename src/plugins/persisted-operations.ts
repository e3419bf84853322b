import { readFileSync } from 'node:fs';
import type { GraphQLError } from 'graphql';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, gatewayError } from '../errors.ts';

/**
 * Trusted documents: an allow-list of operations (sha256 hash → document),
 * built at client build time. When enabled, only listed operations run, on
 * HTTP/SSE (yoga's plugin) and on graphql-ws (resolvePersistedQuery below,
 * since yoga's onParams plugins do not run over WebSocket).
 */
export interface PersistedOperations {
  readonly plugin: Plugin;
  /** The document a WebSocket subscribe payload may run, or an error. */
  resolve(payload: { query?: string | null; extensions?: Record<string, unknown> | null }): string | GraphQLError;
}

const notInList = () => gatewayError(ErrorCode.PersistedQueryNotInList, 'Operation not in the persisted-operations allow-list');

export function loadPersistedOperations(file: string): PersistedOperations {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object of sha256 hash → GraphQL document`);
  const documents = new Map(Object.entries(raw as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return {
    plugin: usePersistedOperations({
      getPersistedOperation: (key) => documents.get(key) ?? null,
      allowArbitraryOperations: false,
    }) as Plugin,
    resolve(payload) {
      const pq = payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
      const hash = typeof pq?.sha256Hash === 'string' ? pq.sha256Hash : undefined;
      const document = hash ? documents.get(hash) : undefined;
      return document ?? notInList();
    },
  };
}
