/**
 * What every example shares: where the gateway is (SWITCHYARD_URL, SWITCHYARD_API_KEY),
 * typed queries over fetch, and typed subscriptions over graphql-ws. The documents are
 * typed by graphql-codegen's client preset (src/__generated__/client/, `npm run codegen`).
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TypedDocumentString } from '../src/__generated__/client/graphql.ts';

export interface Connection {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  readonly graphqlUrl: string;
  readonly apiKey: string | undefined;
}

/** A mistake in how the example was called: it exits with 2. */
export class UsageError extends Error {}

/** SWITCHYARD_URL is the gateway's base URL (default http://localhost:4000) or its /graphql endpoint. */
export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env): Connection {
  const url = new URL(env['SWITCHYARD_URL'] || 'http://localhost:4000');
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/graphql';
  return { graphqlUrl: url.toString(), apiKey: env['SWITCHYARD_API_KEY'] || undefined };
}

interface GraphQLResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly { readonly message: string; readonly extensions?: { readonly code?: string } }[];
}

const describeErrors = (errors: GraphQLResponse<unknown>['errors']) => (errors ?? []).map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');

/** One query over HTTP; throws on any GraphQL error (a partial result is not good enough for a script). */
export async function query<R, V>(connection: Connection, document: TypedDocumentString<R, V>, variables: V): Promise<R> {
  const response = await fetch(connection.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(connection.apiKey ? { authorization: `Bearer ${connection.apiKey}` } : {}),
    },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as GraphQLResponse<R>;
  if (body.errors?.length || !body.data) throw new Error(`query failed (HTTP ${response.status}): ${describeErrors(body.errors)}`);
  return body.data;
}

/** A graphql-ws client (the `ws` package: Node 20 has no global WebSocket). */
export function subscriptionClient(connection: Connection): Client {
  return createClient({
    url: connection.graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: connection.apiKey ? { authorization: `Bearer ${connection.apiKey}` } : {},
    retryAttempts: 5,
    lazy: true,
  });
}

/** A typed subscription as an async iterator of its data; a GraphQL error ends it by throwing. */
export async function* subscribe<R, V>(client: Client, document: TypedDocumentString<R, V>, variables: V): AsyncGenerator<R> {
  const iterator = client.iterate<R>({ query: document.toString(), variables: variables as Record<string, unknown> });
  try {
    for await (const result of iterator) {
      if (result.errors?.length || !result.data) throw new Error(`subscription failed: ${describeErrors(result.errors as GraphQLResponse<unknown>['errors'])}`);
      yield result.data;
    }
  } finally {
    await iterator.return?.();
  }
}

/** Runs an example's main: usage errors exit 2 with the usage text, other failures 1. */
export function run(usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`${error.message}\n\n${usage}`);
        process.exit(2);
      }
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
