/**
 * Baseline for the fan-out bench: a stock graphql-yoga + graphql-ws server,
 * built as in yoga's "Subscriptions over WebSocket" recipe, with yoga's default
 * in-process `createPubSub`. It serves the gateway's own SDL (schema/*.graphql,
 * read as is) with resolvers only for `Subscription.jobUpdated` (optionally
 * filtered by `filter.backends`); every other field uses graphql's default
 * resolver, which is all the bench selects (`previousStatus`, `job { id name status }`).
 *
 * `POST /publish` with a JobEvent-shaped JSON body does
 * `pubsub.publish('jobUpdated', event)` and answers 202 `{"published":1}`.
 *
 * Same child protocol as bench/gateway-process.ts: listens on 127.0.0.1, prints
 * `{"port":N,"pid":N}` on stdout, exits on SIGTERM/SIGINT or when stdin closes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createPubSub, createYoga, filter, pipe } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { closeHttpServer, listenHttpServer, serveBenchChild } from '../lib/child-lifecycle.ts';

interface BaselineJobEvent {
  previousStatus: string | null;
  job: { id: string; name: string; status: string };
  source: string;
  receivedAt: string;
  cursor: string;
  /** Backend name the event came from, for `filter.backends` (not a schema field). */
  backendName: string;
}

const schemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));
const typeDefs = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => readFileSync(`${schemaDir}${f}`, 'utf8'));

const pubsub = createPubSub<{ jobUpdated: [BaselineJobEvent] }>();

const schema = makeExecutableSchema({
  typeDefs,
  resolvers: {
    Subscription: {
      jobUpdated: {
        subscribe: (_: unknown, args: { filter?: { backends?: string[] | null } | null }) => {
          const backends = args.filter?.backends;
          const source = pubsub.subscribe('jobUpdated');
          return backends ? pipe(source, filter((e: BaselineJobEvent) => backends.includes(e.backendName))) : source;
        },
        resolve: (event: BaselineJobEvent) => event,
      },
    },
  },
  resolverValidationOptions: { requireResolversForResolveType: 'ignore' },
});

const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', logging: false, graphiql: false });

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let event: BaselineJobEvent;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString()) as BaselineJobEvent;
      } catch {
        res.writeHead(400).end();
        return;
      }
      pubsub.publish('jobUpdated', event);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"published":1}');
    });
    return;
  }
  void yoga.handle(req, res);
});

// The yoga recipe: graphql-ws on the same server and path, operations run through yoga's envelop.
const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
type EnvelopedRoot = { execute: (a: ExecutionArgs) => unknown; subscribe: (a: ExecutionArgs) => unknown };
const wsServer = useServer(
  {
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
    subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
    onSubscribe: async (ctx, _id, params) => {
      const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params });
      const args = {
        schema: s,
        operationName: params.operationName ?? null,
        document: parse(params.query),
        variableValues: params.variables ?? null,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      return args;
    },
  },
  wss,
);

await serveBenchChild({
  listen: () => listenHttpServer(server),
  close: async () => {
    await wsServer.dispose();
    await closeHttpServer(server);
  },
});
