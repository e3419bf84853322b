import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { pino } from 'pino';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig, type AdapterFactories, type GatewayConfig } from '../../src/config/load-config.ts';
import { createGateway, type Gateway } from '../../src/server/create-gateway.ts';

export interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[];
}

/** The parts every test stack shares: a real gateway on an ephemeral loopback port. */
export interface GatewayStack {
  readonly gateway: Gateway;
  /** The validated config the gateway started with (the base of a reload). */
  readonly config: GatewayConfig;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  readonly graphqlUrl: string;
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse<T>>;
  /** A graphql-ws client (no retries), disposed by close(). */
  wsClient(): Client;
  /** Disposes ws clients, closes the gateway, then runs `onClose` (stop simulators). */
  close(): Promise<void>;
}

/** A gateway stack over one simulated upstream. */
export interface SimulatorStack<S> extends GatewayStack {
  readonly sim: S;
}

export interface GatewayStackOptions {
  /** Let the core's scheduler poll on its own (default false). */
  readonly polling?: boolean;
  /** Receives every log line (JSON) at trace level, for tests that inspect logs. */
  readonly logSink?: ((line: string) => void) | undefined;
  /** Runs after the gateway has closed (e.g. stopping simulators), or when it failed to start. */
  readonly onClose?: () => Promise<void>;
  /** Environment for secret references (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The gateway's clock (core and adapters); default the real one. */
  readonly now?: () => Date;
  /** The provider set (default this build's, src/adapters.ts); a test adds its own with registerProviders. */
  readonly factories?: AdapterFactories;
}

/**
 * Validates `config` on top of loopback/open-auth/no-audit defaults, starts a gateway on
 * 127.0.0.1:0 and returns query / ws client / close helpers.
 */
export async function startGatewayStack(config: Record<string, unknown>, options: GatewayStackOptions = {}): Promise<GatewayStack> {
  const validated = validateConfig(
    {
      logLevel: 'silent',
      server: { port: 0, host: '127.0.0.1' },
      auth: { mode: 'open' },
      audit: { file: null },
      // PGlite compiles its WASM for seconds: only the tests about history turn it on.
      history: { enabled: false },
      ...config,
    },
    options.factories ?? adapterFactories,
    'test',
  );
  let gateway: ReturnType<typeof createGateway>;
  try {
    gateway = createGateway({
      config: validated,
      factories: options.factories ?? adapterFactories,
      log: options.logSink ? pino({ level: 'trace' }, { write: options.logSink }) : pino({ level: 'silent' }),
      polling: options.polling ?? false,
      ...(options.env ? { env: options.env } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  } catch (error) {
    await options.onClose?.();
    throw error;
  }
  const { port } = await gateway.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    gateway,
    config: validated,
    base,
    graphqlUrl: `${base}/graphql`,
    async query(query, variables) {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as never;
    },
    wsClient() {
      const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await gateway.close();
      await options.onClose?.();
    },
  };
}
