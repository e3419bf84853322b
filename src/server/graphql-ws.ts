import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../context.ts';

export interface GraphQLWsOptions {
  readonly path: string;
  readonly maxPayloadBytes: number;
}

/**
 * graphql-ws (subprotocol graphql-transport-ws) on the same path as HTTP.
 * Operations run through yoga's envelop so plugins apply on both transports.
 * Parse and validation failures become an `error` message for that operation
 * only; the socket and the client's other subscriptions stay open (never 4500).
 */
export function attachGraphQLWs(server: Server, yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>, options: GraphQLWsOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        try {
          const document = parse(payload.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return errors;
          return {
            schema,
            operationName: payload.operationName ?? null,
            document,
            variableValues: payload.variables ?? null,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          } satisfies ExecutionArgs;
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Invalid operation', { extensions: { code: 'BAD_REQUEST' } })];
        }
      },
    },
    wss,
  );

  return {
    wss,
    /** Closes every socket with 1001 (going away) so clients reconnect elsewhere. */
    async dispose(): Promise<void> {
      await disposable.dispose();
    },
  };
}
